// The webhook recipe of docs/operations.md「再認可が必要になったら Slack に通知する」 as written: the docs' code block
// is tests/fixtures/reauthorization-webhook.ts's recipe, and that app, run in a child process against the
// emulator with a dead chain, posts one Slack-compatible `{"text": …}` to a receiver on 127.0.0.1.
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { REAUTHORIZE_STEPS } from '../../src/alarmbox/errors.ts';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { storedPair, useEmulatorWorld } from '../support/alarmbox.ts';
import { cliBaseEnv } from '../support/cli.ts';
import { fixturePath } from '../support/node-scripts.ts';

const root = new URL('../../', import.meta.url).pathname;
const FIXTURE = 'tests/fixtures/reauthorization-webhook.ts';

interface Received {
  readonly method: string | undefined;
  readonly contentType: string | undefined;
  readonly body: string;
}

/** A webhook receiver on 127.0.0.1: remembers every request, answers `status`. */
class Receiver {
  readonly requests: Received[] = [];
  status = 200;
  readonly #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      this.requests.push({
        method: req.method,
        contentType: req.headers['content-type'],
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(this.status, { 'content-type': 'text/plain' }).end(this.status === 200 ? 'ok' : 'no');
    });
  });

  async start(): Promise<void> {
    this.#server.listen(0, '127.0.0.1');
    await once(this.#server, 'listening');
  }

  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/services/T000/B000/XXXX`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** Runs the recipe's app with exactly `env`; its `result` lines and stderr. */
function runRecipe(
  env: Record<string, string>,
): Promise<{ code: number; results: unknown[]; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [fixturePath('reauthorization-webhook.ts')],
      { env: { ...cliBaseEnv(), ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const results = stdout
          .split('\n')
          .filter((line) => line.startsWith('result '))
          .map((line) => JSON.parse(line.slice('result '.length)) as unknown);
        resolve({ code: error === null ? 0 : Number(error.code ?? 1), results, stderr });
      },
    );
  });
}

describe('the re-authorization webhook recipe (SQLite)', () => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;
  let env: Record<string, string>;
  const receiver = new Receiver();

  useEmulatorWorld(
    {
      databaseUrl: () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'alarmbox-recipe-')), 'recipe.db')}`,
      keys: generateKeySpec('w1'),
    },
    (world) => {
      ({ emulator, alarmbox, env } = world);
    },
  );
  beforeAll(() => receiver.start());
  afterAll(() => receiver.close());
  beforeEach(() => {
    receiver.requests.length = 0;
    receiver.status = 200;
  });

  /** AlarmBox no longer knows the stored refresh token, and the access token is expired: the chain is dead. */
  const killChain = async () => {
    emulator.reset();
    await alarmbox.store.markExpired();
  };

  it('the docs show the fixture recipe verbatim', () => {
    const source = readFileSync(join(root, FIXTURE), 'utf8');
    const region = /\/\/ #region recipe\n([\s\S]*?)\/\/ #endregion recipe\n/.exec(source)?.[1];
    expect(region, 'the fixture has its recipe region').toBeDefined();
    const asDocumented = region?.replace("'../../src/index.ts'", "'alarmbox-auth'") ?? '';
    const docs = readFileSync(join(root, 'docs/operations.md'), 'utf8');
    expect(docs).toContain(`\`\`\`ts\n${asDocumented}\`\`\`\n`);
  });

  it('a dead chain: one post of {"text": …} with the steps, however many calls fail', async () => {
    const dead = await storedPair(alarmbox);
    await killChain();
    const run = await runRecipe({ ...env, SLACK_WEBHOOK_URL: receiver.url });
    expect(run.code, run.stderr).toBe(0);
    expect(run.results).toEqual([
      { ok: false, reason: 'reauthorization_required' },
      { ok: false, reason: 'reauthorization_required' },
    ]);
    expect(receiver.requests, 'one post for the episode').toHaveLength(1);
    const [post] = receiver.requests;
    expect(post?.method).toBe('POST');
    expect(post?.contentType).toBe('application/json');
    const body = JSON.parse(post?.body ?? '') as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['text']);
    expect(body.text).toMatch(/^AlarmBox の再認可が必要です \(\d{4}-\d\d-\d\dT[\d:.]+Z\)。/);
    expect(body.text).toContain(
      `API を使い続けるには、${REAUTHORIZE_STEPS}。\n原因: トークンの更新に失敗しました`,
    );
    for (const secret of [dead.access, dead.refresh, emulator.options.clientSecret]) {
      expect(post?.body).not.toContain(secret);
    }
  });

  it('a webhook that answers 500: the calls fail with their own reason only, the post failure is a warning', async () => {
    receiver.status = 500;
    await killChain();
    const run = await runRecipe({ ...env, SLACK_WEBHOOK_URL: receiver.url });
    expect(run.code, run.stderr).toBe(0);
    expect(run.results).toEqual([
      { ok: false, reason: 'reauthorization_required' },
      { ok: false, reason: 'reauthorization_required' },
    ]);
    expect(receiver.requests).toHaveLength(1);
    expect(run.stderr).toContain(
      'AlarmboxSecondaryFailure: トークンのイベント reauthorization_required のリスナーに失敗しました',
    );
  });

  it('a healthy chain: the app gets its token and nothing is posted', async () => {
    await alarmbox.store.markExpired();
    const run = await runRecipe({ ...env, SLACK_WEBHOOK_URL: receiver.url });
    expect(run.code, run.stderr).toBe(0);
    expect(run.results).toEqual([{ ok: true }, { ok: true }]);
    expect(receiver.requests, 'refreshed is not posted').toHaveLength(0);
  });
});
