# The image that `alarmbox deploy-manifest` deploys: its ENTRYPOINT is the `alarmbox` CLI, so a job runs
# `refresh-token --log-format=json …` and an operator can run any other command with the same image.
# It runs the compiled dist/ as an installed package does (bin/run.js picks dist/ when src/ is absent).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# --ignore-scripts: `prepare` would build before src/ is complete; the build runs explicitly below.
RUN npm ci --ignore-scripts --no-audit --no-fund && npm run build

FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY scripts/image-manifest.js ./scripts/
# The database drivers are optional peers that an app installs; this image is the CLI's app, so they are installed
# here, at the lockfile's versions (scripts/image-manifest.js). --ignore-scripts: `prepare` has nothing to build
# without src/, and every run-time dependency is plain JavaScript (no install step).
RUN node scripts/image-manifest.js && npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production ALARMBOX_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY --from=build /app/dist ./dist
USER node
ENTRYPOINT ["node", "/app/bin/alarmbox.js"]
CMD ["--help"]
