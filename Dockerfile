# The image that `alarmbox deploy-manifest` deploys: its ENTRYPOINT is the `alarmbox` CLI, so a job runs
# `refresh-token --log-format=json …` and an operator can run any other command with the same image.
# Node 24 runs the TypeScript sources directly (type stripping): there is no build step.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
# better-sqlite3 falls back to compiling when no prebuilt binary matches.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production ALARMBOX_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
USER node
ENTRYPOINT ["node", "/app/bin/alarmbox.js"]
CMD ["--help"]
