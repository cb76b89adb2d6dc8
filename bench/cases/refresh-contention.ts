// refresh-contention: what a user waits for when the token expires under load. 8 processes × 25 callers at
// expiry, on SQLite, MariaDB and PostgreSQL: wall time until every caller has a token, against one uncontended
// refresh (one process's 25 callers) measured in the same run, both with AlarmBox answering in TOKEN_LATENCY_MS
// as it does from the internet. Limit 1.3 on each database; exactly one token request per rotation.
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createToolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { startEmulator } from '../../src/emulator/index.ts';
import { type BenchCase, type BenchResult, median } from '../case.ts';
import { type BenchDatabaseKind, withBenchDatabase } from '../databases.ts';

const PROCESSES = 8;
const CALLERS = 25;
const ROUNDS = 32;
const WARM_REFRESHES = 12;
const WARM_ROUNDS = 12;
/** How long the emulator's token endpoint takes to answer: AlarmBox is an internet round trip away. */
const TOKEN_LATENCY_MS = 150;
/** A contended round must stay within this multiple of the uncontended one. */
const LIMIT = 1.3;
/** How far ahead a round's start is set: time enough for every process to read its `go` line. */
const START_LEAD_MS = 20;
/** When, after the start, the processes report: after a round, not during it (see round()). */
const REPORT_AFTER_MS = 600;
/** CLOCK_MONOTONIC: the one clock that the processes of a round share (the fixtures read it too). */
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;
const fixture = (name: string) => fileURLToPath(new URL(`../../tests/fixtures/${name}`, import.meta.url));

/** A child process speaking the line protocol of tests/fixtures/*.ts: `ready`, then one answer per command. */
function child(script: string, args: string[], env: Record<string, string>) {
  const proc = spawn(process.execPath, [fixture(script), ...args], {
    env: { ...process.env, ...env, NODE_COMPILE_CACHE: join(tmpdir(), 'alarmbox-test-node-compile-cache') },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const waiting = new Map<string, (line: string) => void>();
  createInterface({ input: proc.stdout }).on('line', (line) => {
    for (const [prefix, resolve] of waiting) {
      if (line.startsWith(prefix)) {
        waiting.delete(prefix);
        resolve(line);
      }
    }
  });
  return {
    line: (prefix: string) => new Promise<string>((resolve) => waiting.set(prefix, resolve)),
    send: (text: string) => proc.stdin.write(`${text}\n`),
    kill: () => proc.kill(),
  };
}

const contention: BenchCase = {
  name: 'refresh-contention',
  async run() {
    const results: BenchResult[] = [];
    for (const kind of (process.env.BENCH_KINDS?.split(',') ?? [
      'sqlite',
      'mysql',
      'postgres',
    ]) as BenchDatabaseKind[]) {
      results.push(...(await withBenchDatabase(kind, (url) => contentionOn(kind, url))));
    }
    return results;
  },
};

const LABEL: Record<BenchDatabaseKind, string> = {
  sqlite: 'SQLite',
  mysql: 'MariaDB',
  postgres: 'PostgreSQL',
};
const suffixed = (name: string, kind: BenchDatabaseKind) => (kind === 'sqlite' ? name : `${name}-${kind}`);

async function contentionOn(kind: BenchDatabaseKind, databaseUrl: string): Promise<BenchResult[]> {
  const emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
  const env = {
    DATABASE_URL: databaseUrl,
    ALARMBOX_ENV: 'dev',
    ALARMBOX_ENCRYPTION_KEYS: generateKeySpec('b1'),
    ALARMBOX_BASE_URL: emulator.url,
    ALARMBOX_CLIENT_ID: emulator.options.clientId,
    ALARMBOX_CLIENT_SECRET: emulator.options.clientSecret,
  };
  const alarmbox = createToolkit({
    env: 'dev',
    databaseUrl: env.DATABASE_URL,
    encryptionKeys: env.ALARMBOX_ENCRYPTION_KEYS,
    baseUrl: emulator.url,
    clientId: emulator.options.clientId,
    clientSecret: emulator.options.clientSecret,
  });
  const children: ReturnType<typeof child>[] = [];
  try {
    await migrateToLatest(alarmbox.database);
    await alarmbox.tokens.saveInitialToken({
      accessToken: 'seed',
      refreshToken: await seedRefreshToken(),
      expiresIn: 86_400,
    });

    const crowd = Array.from({ length: PROCESSES }, () => child('token-caller.ts', [String(CALLERS)], env));
    children.push(...crowd);
    await Promise.all(crowd.map((c) => c.line('ready')));
    // Equal warmth: V8 compiles a path only after it has run a few times, and a process's first refreshes
    // (undici, oauth4webapi, the save) are several times slower than later ones. So every process refreshes
    // WARM_REFRESHES times alone (without the latency: only the code paths matter here), then takes part in
    // WARM_ROUNDS contended rounds, before anything is timed: the ratio measures contention, not the JIT.
    for (let k = 0; k < WARM_REFRESHES; k++) {
      for (const [i, c] of crowd.entries()) {
        const done = c.line(`result:warm${i}.${k} `);
        c.send(`force warm${i}.${k}`);
        await done;
      }
    }
    emulator.setFaults({ token: { delayMs: TOKEN_LATENCY_MS } });
    for (let r = 0; r < WARM_ROUNDS; r++) {
      await alarmbox.store.markExpired();
      await round(crowd, `warm${r}`);
    }

    // Solo and contended rounds in turn, so that a noisy moment on the machine falls on both alike:
    // - solo: one uncontended refresh by one of the same processes (its 25 callers at expiry, the others
    //   idle): the baseline;
    // - contended: all 8 at expiry: one of them refreshes, the other 7 poll row 1 and the lease until the
    //   new pair is there.
    const single: number[] = [];
    const walls: number[] = [];
    const requests: number[] = [];
    const tokenRequests = () => emulator.stats().tokenRequests.refresh_token.ok ?? 0;
    for (let r = 0; r < ROUNDS; r++) {
      await alarmbox.store.markExpired();
      single.push(await round([crowd[r % PROCESSES] as (typeof crowd)[number]], `solo${r}`));
      await alarmbox.store.markExpired();
      const before = tokenRequests();
      walls.push(await round(crowd, `r${r}`));
      requests.push(tokenRequests() - before);
    }
    const baseline = median(single);
    const value = median(walls);
    if (process.env.BENCH_DEBUG) {
      const fmt = (xs: number[]) =>
        [...xs]
          .sort((a, b) => a - b)
          .map((x) => x.toFixed(1))
          .join(' ');
      console.log(`${kind} solo ${fmt(single)}\n${kind} contended ${fmt(walls)}`);
    }
    const counts = [...new Set(requests)].sort((a, b) => a - b);
    return [
      {
        name: suffixed('refresh-contention', kind),
        value,
        unit: 'ms',
        baseline,
        ratio: value / baseline,
        limit: LIMIT,
        note:
          `${PROCESSES}×${CALLERS} callers (${LABEL[kind]}), token endpoint ${TOKEN_LATENCY_MS} ms; ` +
          `token requests per rotation: ${counts.join('/')} in ${ROUNDS} rotations`,
        ...(counts.length === 1 && counts[0] === 1
          ? {}
          : {
              problems: [
                `token requests per rotation ${requests.join(',')}: every rotation must make exactly 1`,
              ],
            }),
      },
    ];
  } finally {
    for (const c of children) c.send('exit');
    await alarmbox.close();
    await emulator.close();
  }

  async function seedRefreshToken(): Promise<string> {
    const authorize = new URL('/oauth/authorize', emulator.url);
    authorize.search = new URLSearchParams({
      client_id: emulator.options.clientId,
      redirect_uri: 'urn:ietf:wg:oauth:2.0:oob',
      response_type: 'code',
      scope: 'read credit_check:create',
    }).toString();
    const location = (await fetch(authorize, { redirect: 'manual' })).headers.get('location') ?? '';
    const code = new URL(location, emulator.url).searchParams.get('code') ?? '';
    const received = await alarmbox.client.getTokenByCode(code);
    return received.response.refresh_token ?? '';
  }
}

/**
 * One round: every child starts its callers at the same instant (a barrier a little ahead, as app instances
 * meet an expiry together) and reports when they started and when its last caller had a token. Returns the
 * wall time from the first call until every caller of every child had a token. The harness stays out of
 * it: the parent's writes to 8 pipes come before the start, and the reports (writing them, and this process
 * waking to read each) after the round, instead of taking CPU on a 2-core machine from processes still at
 * work. A round that overruns REPORT_AFTER_MS is still measured right, only less cleanly.
 */
async function round(children: ReturnType<typeof child>[], name: string): Promise<number> {
  const done = children.map((c) => c.line(`result:${name} `));
  const start = monotonicMs() + START_LEAD_MS;
  for (const c of children) c.send(`go ${name} ${start} ${start + REPORT_AFTER_MS}`);
  const results = (await Promise.all(done)).map(
    (line) =>
      JSON.parse(line.slice(line.indexOf(' ') + 1)) as {
        errors: string[];
        ms: number;
        cpuMs: number;
        startedAt: number;
        endedAt: number;
      },
  );
  for (const { errors } of results) {
    if (errors.length > 0) throw new Error(`callers failed: ${errors[0]}`);
  }
  if (process.env.BENCH_DEBUG) {
    console.log(name, results.map((j) => `${Math.round(j.ms)}/${Math.round(j.cpuMs)}`).join(' '));
  }
  // From the first caller's call (a timer may fire a little before or after `start`) to the last token.
  return Math.max(...results.map((j) => j.endedAt)) - Math.min(...results.map((j) => j.startedAt));
}

export default contention;
