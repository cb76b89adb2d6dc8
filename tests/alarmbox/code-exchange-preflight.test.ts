// The one-time code is spent only when the pair can be kept (issue 15, item 10), through each of the three
// doors of the code exchange: `alarmbox save-token` (a CLI child), `createAlarmbox().exchangeCode()` (the
// library) and the web console's paste form (over HTTP). Before the code is sent, everything the save needs is
// checked; a failed check leaves the code unused (AlarmBox never saw it, and it redeems afterwards). When the
// save fails after the exchange anyway, the issued pair is revoked at AlarmBox and the message says so.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlarmboxClient } from '../../src/alarmbox/client.ts';
import { AlarmboxAPIError } from '../../src/alarmbox/errors.ts';
import { startConsole } from '../../src/apps/console/index.ts';
import { OOB_REDIRECT_URI } from '../../src/config/index.ts';
import { createAlarmbox } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest, openDatabase, parseDatabaseUrl, TOKENS_TABLE } from '../../src/db/index.ts';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import { reasonOf } from '../../src/errors.ts';
import { FAILURE_REASONS, type FailureReason } from '../../src/failure-reason.ts';
import { apiStatus, obtainCode } from '../support/authorize.ts';
import { runCli } from '../support/cli.ts';
import { closedPort } from '../support/closed-port.ts';
import { ConsoleBrowser, textOf } from '../support/console-browser.ts';
import { describeEachDatabase } from '../support/databases.ts';
import { FaultProxy } from '../support/fault-proxy.ts';
import { TokenRecorder } from '../support/token-recorder.ts';

let emulator: RunningEmulator;
let recorder: TokenRecorder;
let dir: string;

beforeAll(async () => {
  emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true });
  recorder = await TokenRecorder.start(emulator.url);
  dir = mkdtempSync(join(tmpdir(), 'alarmbox-preflight-'));
});

afterAll(async () => {
  await recorder?.close();
  await emulator?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  emulator.reset();
  recorder.clear();
});

/** Where a door saves: the settings every door is given, as environment variables or options. */
interface Setup {
  readonly env: 'local' | 'dev' | 'production';
  readonly databaseUrl: string;
  readonly encryptionKeys?: string;
  /** The working directory: ALARMBOX_ENV=local keeps its key file in `.alarmbox/` under it. */
  readonly cwd: string;
}

/** How a door ended: the reason, the CLI exit code it means, and the message a person reads. */
interface Outcome {
  readonly reason: string;
  readonly exitCode: number;
  readonly message: string;
}

type Door = (setup: Setup, code: string) => Promise<Outcome>;

const doors: Record<'save-token' | 'exchangeCode' | 'console', Door> = {
  'save-token': async (setup, code) => {
    const r = await runCli(
      ['save-token', '--code', code],
      {
        DATABASE_URL: setup.databaseUrl,
        ALARMBOX_ENV: setup.env,
        ...(setup.encryptionKeys === undefined ? {} : { ALARMBOX_ENCRYPTION_KEYS: setup.encryptionKeys }),
        ALARMBOX_BASE_URL: recorder.url,
        ALARMBOX_CLIENT_ID: emulator.options.clientId,
        ALARMBOX_CLIENT_SECRET: emulator.options.clientSecret,
      },
      { cwd: setup.cwd },
    );
    // The CLI shows the exit code, not the reason: take the first reason of that code (2: configuration).
    const reason =
      r.code === 0 ? 'ok' : Object.entries(FAILURE_REASONS).find(([, info]) => info.exitCode === r.code)?.[0];
    return { reason: reason ?? `exit ${r.code}`, exitCode: r.code, message: `${r.stdout}${r.stderr}` };
  },
  exchangeCode: async (setup, code) => {
    const alarmbox = createAlarmbox(libraryOptions(setup));
    try {
      await alarmbox.exchangeCode(code);
      return { reason: 'ok', exitCode: 0, message: '' };
    } catch (error) {
      const reason: FailureReason = reasonOf(error);
      return {
        reason,
        exitCode: FAILURE_REASONS[reason].exitCode,
        message: error instanceof Error ? error.message : String(error),
      };
    } finally {
      await alarmbox.close();
    }
  },
  console: async (setup, code) => {
    const running = await startConsole({ port: 0, alarmbox: libraryOptions(setup) });
    try {
      const browser = new ConsoleBrowser(running);
      await browser.get('/connect');
      const posted = await browser.post('/connect/code', { code });
      const text = textOf((await browser.get(posted.headers.get('location') ?? '/')).body);
      const said = /\((\w+)、CLI の終了コード (\d)\)/.exec(text);
      return {
        reason: said?.[1] ?? (text.includes('AlarmBox と連携しました') ? 'ok' : '(none)'),
        exitCode: Number(said?.[2] ?? 0),
        message: text,
      };
    } finally {
      await running.close();
    }
  },
};

function libraryOptions(setup: Setup) {
  return {
    env: setup.env,
    databaseUrl: setup.databaseUrl,
    ...(setup.encryptionKeys === undefined ? {} : { encryptionKeys: setup.encryptionKeys }),
    dataDir: join(setup.cwd, '.alarmbox'),
    baseUrl: recorder.url,
    clientId: emulator.options.clientId,
    clientSecret: emulator.options.clientSecret,
  };
}

/** A client straight at the emulator: redeems codes and refreshes, to see what AlarmBox still accepts. */
function directClient(): AlarmboxClient {
  return new AlarmboxClient({
    baseUrl: emulator.url,
    clientId: emulator.options.clientId,
    clientSecret: emulator.options.clientSecret,
    redirectUri: OOB_REDIRECT_URI,
    timeoutMs: 10_000,
  });
}

/** AlarmBox never saw the code, and it is still good: it redeems now. */
async function expectCodeUnused(code: string): Promise<void> {
  expect(recorder.codesSent).toEqual([]);
  expect(emulator.stats().tokenRequests.authorization_code, 'code exchanges at AlarmBox').toEqual({});
  const redeemed = await directClient().getTokenByCode(code);
  expect(redeemed.response.refresh_token).toMatch(/.+/);
}

function expectNoSecret(message: string, code: string): void {
  expect(message).not.toContain(code);
  expect(message).not.toContain(emulator.options.clientSecret);
  for (const token of recorder.issued) expect(message).not.toContain(token);
}

/** A migrated SQLite database of its own. */
async function migratedSqlite(name: string): Promise<string> {
  const url = `sqlite:${join(dir, `${name}.db`)}`;
  const handle = openDatabase(parseDatabaseUrl(url));
  try {
    await migrateToLatest(handle);
  } finally {
    await handle.close();
  }
  return url;
}

/** A working directory of its own. */
function workDir(name: string): string {
  const cwd = join(dir, name);
  mkdirSync(cwd, { recursive: true });
  return cwd;
}

for (const [doorName, door] of Object.entries(doors)) {
  describe(`${doorName}: a check fails before the code is sent`, () => {
    it('ALARMBOX_ENV=production without ALARMBOX_ENCRYPTION_KEYS: configuration (2), the code unused', async () => {
      const setup: Setup = {
        env: 'production',
        databaseUrl: await migratedSqlite(`${doorName}-nokeys`),
        cwd: workDir(`${doorName}-nokeys`),
      };
      const code = await obtainCode(emulator);
      const outcome = await door(setup, code);
      expect(outcome).toMatchObject({ reason: 'configuration', exitCode: 2 });
      expect(outcome.message).toContain('認可コードは未使用です');
      expect(outcome.message).toContain('ALARMBOX_ENCRYPTION_KEYS が設定されていません');
      expectNoSecret(outcome.message, code);
      await expectCodeUnused(code);
    });

    it('ALARMBOX_ENV=local with a directory where the key file goes: configuration (2), the code unused', async () => {
      const cwd = workDir(`${doorName}-keydir`);
      mkdirSync(join(cwd, '.alarmbox', 'encryption-keys'), { recursive: true });
      const setup: Setup = { env: 'local', databaseUrl: await migratedSqlite(`${doorName}-keydir`), cwd };
      const code = await obtainCode(emulator);
      const outcome = await door(setup, code);
      expect(outcome).toMatchObject({ reason: 'configuration', exitCode: 2 });
      expect(outcome.message).toContain('認可コードは未使用です');
      expect(outcome.message).toContain('暗号鍵ファイル');
      expectNoSecret(outcome.message, code);
      await expectCodeUnused(code);
    });

    it('the database does not answer (PostgreSQL on a closed port): temporary (5), the code unused', async () => {
      const setup: Setup = {
        env: 'dev',
        databaseUrl: `postgres://postgres@127.0.0.1:${await closedPort()}/test`,
        encryptionKeys: generateKeySpec('k1'),
        cwd: workDir(`${doorName}-down`),
      };
      const code = await obtainCode(emulator);
      const outcome = await door(setup, code);
      expect(outcome).toMatchObject({ reason: 'temporary', exitCode: 5 });
      expect(outcome.message).toContain('認可コードは未使用です');
      expect(outcome.message).toContain('データベースに接続できません');
      expectNoSecret(outcome.message, code);
      await expectCodeUnused(code);
    });
  });
}

/** The pair bought with `code` was revoked by its refresh token (RFC 7009) and is dead now. */
async function expectIssuedPairRevoked(code: string): Promise<void> {
  expect(recorder.codesSent).toEqual([code]);
  expect(recorder.issued).toHaveLength(1);
  const issued = recorder.issued[0] ?? '';
  expect(recorder.revocations).toEqual([{ token: issued, hint: 'refresh_token', status: 200 }]);
  expect(emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({ ok: 1 });
  const refreshed = await directClient()
    .refreshToken(issued)
    .then(
      () => undefined,
      (error: unknown) => error,
    );
  expect(refreshed).toBeInstanceOf(AlarmboxAPIError);
  expect((refreshed as AlarmboxAPIError).oauthError).toBe('invalid_grant');
}

describeEachDatabase('the code exchange and the database', (db) => {
  const keys = generateKeySpec('k1');
  const setup = (name: string): Setup => ({
    env: 'dev',
    databaseUrl: db.url,
    encryptionKeys: keys,
    cwd: workDir(`${db.kind}-${name}`),
  });

  for (const [doorName, door] of Object.entries(doors)) {
    it(`${doorName}: migrations not applied: configuration (2), the code unused`, async () => {
      // The database exists (a SQLite file too), its tables do not.
      await db.handle.ping();
      const code = await obtainCode(emulator);
      const outcome = await door(setup(`${doorName}-unmigrated`), code);
      expect(outcome).toMatchObject({ reason: 'configuration', exitCode: 2 });
      expect(outcome.message).toContain('認可コードは未使用です');
      expect(outcome.message).toContain('alarmbox migrate');
      expectNoSecret(outcome.message, code);
      await expectCodeUnused(code);
    });
  }

  describe('row 1 refuses the write (triggers on the token table, as a hand-made rule would)', () => {
    const refuse = async () => {
      const t = sql.table(TOKENS_TABLE);
      if (db.kind === 'postgres') {
        await sql`create function alarmbox_refuse() returns trigger language plpgsql as $$ begin raise exception 'refused'; end $$`.execute(
          db.handle.db,
        );
        await sql`create trigger alarmbox_refuse before insert or update on ${t} for each row execute function alarmbox_refuse()`.execute(
          db.handle.db,
        );
      } else if (db.kind === 'mysql') {
        for (const [name, event] of [
          ['alarmbox_refuse_insert', sql`insert`],
          ['alarmbox_refuse_update', sql`update`],
        ] as const) {
          await sql`create trigger ${sql.id(name)} before ${event} on ${t} for each row signal sqlstate '45000' set message_text = 'refused'`.execute(
            db.handle.db,
          );
        }
      } else {
        for (const [name, event] of [
          ['alarmbox_refuse_insert', sql`insert`],
          ['alarmbox_refuse_update', sql`update`],
        ] as const) {
          await sql`create trigger ${sql.id(name)} before ${event} on ${t} begin select raise(abort, 'refused'); end`.execute(
            db.handle.db,
          );
        }
      }
    };
    const allow = async () => {
      if (db.kind === 'postgres') {
        await sql`drop trigger alarmbox_refuse on ${sql.table(TOKENS_TABLE)}`.execute(db.handle.db);
        await sql`drop function alarmbox_refuse()`.execute(db.handle.db);
      } else {
        await sql`drop trigger alarmbox_refuse_insert`.execute(db.handle.db);
        await sql`drop trigger alarmbox_refuse_update`.execute(db.handle.db);
      }
    };

    beforeAll(async () => {
      await migrateToLatest(db.handle);
    });

    for (const doorName of ['save-token', 'exchangeCode'] as const) {
      it(`${doorName}: no row yet, then a registered row: unexpected (1), nothing stored, the code unused`, async () => {
        const door = doors[doorName];
        await db.handle.db.deleteFrom(TOKENS_TABLE).execute();
        const code = await obtainCode(emulator);
        await refuse();
        let outcome: Outcome;
        try {
          outcome = await door(setup(`${doorName}-refused`), code);
        } finally {
          await allow();
        }
        expect(outcome).toMatchObject({ reason: 'unexpected', exitCode: 1 });
        expect(outcome.message).toContain('認可コードは未使用です');
        expect(outcome.message).toContain('への行 1 の追加をデータベースが拒否しました');
        expectNoSecret(outcome.message, code);
        expect(await db.handle.db.selectFrom(TOKENS_TABLE).selectAll().execute()).toEqual([]);
        expect(recorder.codesSent).toEqual([]);
        // The very same code works once the rule is gone: it was never sent.
        expect(await door(setup(`${doorName}-allowed`), code)).toMatchObject({ reason: 'ok', exitCode: 0 });
        const [stored] = await db.handle.db.selectFrom(TOKENS_TABLE).selectAll().execute();
        expect(stored?.version).toBe(1);

        // Row 1 exists now: the check is its UPDATE, and the stored pair stays as it was.
        recorder.clear();
        const second = await obtainCode(emulator);
        await refuse();
        try {
          outcome = await door(setup(`${doorName}-refused-update`), second);
        } finally {
          await allow();
        }
        expect(outcome).toMatchObject({ reason: 'unexpected', exitCode: 1 });
        expect(outcome.message).toContain('の行 1 の更新をデータベースが拒否しました');
        expect(await db.handle.db.selectFrom(TOKENS_TABLE).selectAll().execute()).toEqual([stored]);
        expect(recorder.codesSent).toEqual([]);
        const redeemed = await directClient().getTokenByCode(second);
        expect(redeemed.response.refresh_token).toMatch(/.+/);
        await db.handle.db.deleteFrom(TOKENS_TABLE).execute();
      });
    }
  });

  describe('the database fails between the checks and the save', () => {
    const hidden = `${TOKENS_TABLE}_hidden`;
    const hide = () => sql`alter table ${sql.table(TOKENS_TABLE)} rename to ${sql.table(hidden)}`;
    const restore = () => sql`alter table ${sql.table(hidden)} rename to ${sql.table(TOKENS_TABLE)}`;

    beforeAll(async () => {
      await migrateToLatest(db.handle);
    });

    for (const [doorName, door] of Object.entries(doors)) {
      it(`${doorName}: the issued pair is revoked at AlarmBox and the message says so`, async () => {
        const code = await obtainCode(emulator);
        let hiddenNow = false;
        // AlarmBox has answered; before the answer reaches the door, the token table goes away.
        recorder.beforeTokenAnswer = async () => {
          await hide().execute(db.handle.db);
          hiddenNow = true;
        };
        let outcome: Outcome;
        try {
          outcome = await door(setup(`${doorName}-vanish`), code);
        } finally {
          if (hiddenNow) await restore().execute(db.handle.db);
        }
        expect(hiddenNow).toBe(true);
        expect(outcome).toMatchObject({ reason: 'configuration', exitCode: 2 });
        expect(outcome.message).toContain('トークンを取得しましたが保存できませんでした');
        expect(outcome.message).toContain('発行されたトークンは AlarmBox で失効させました');
        expect(outcome.message).toContain('alarmbox authorize-url');
        expectNoSecret(outcome.message, code);
        await expectIssuedPairRevoked(code);
        // Nothing was stored.
        const row = await db.handle.db.selectFrom(TOKENS_TABLE).selectAll().execute();
        expect(row).toEqual([]);
      });
    }

    // The database itself goes away (every connection reset, new ones refused): a server database only.
    for (const doorName of db.kind === 'sqlite' ? [] : (['save-token', 'exchangeCode'] as const)) {
      it(`${doorName}: the connection is cut: temporary (5), the issued pair revoked`, async () => {
        if (db.target.dialect === 'sqlite') throw new Error('a server database is expected');
        const proxy = await FaultProxy.start({ host: db.target.host, port: db.target.port });
        try {
          const code = await obtainCode(emulator);
          recorder.beforeTokenAnswer = async () => proxy.setMode('cut');
          const outcome = await doors[doorName](
            { ...setup(`${doorName}-cut`), databaseUrl: proxy.rewrite(db.url) },
            code,
          );
          expect(outcome).toMatchObject({ reason: 'temporary', exitCode: 5 });
          expect(outcome.message).toContain('トークンを取得しましたが保存できませんでした');
          expect(outcome.message).toContain('データベースに接続できません');
          expect(outcome.message).toContain('発行されたトークンは AlarmBox で失効させました');
          expectNoSecret(outcome.message, code);
          await expectIssuedPairRevoked(code);
          expect(await db.handle.db.selectFrom(TOKENS_TABLE).selectAll().execute()).toEqual([]);
        } finally {
          await proxy.close();
        }
      });
    }
  });
});

describe('an answer without a refresh token', () => {
  it('exchangeCode(): nothing stored, the access token revoked (the pair with it)', async () => {
    const databaseUrl = await migratedSqlite('no-refresh-token');
    const code = await obtainCode(emulator);
    emulator.setFaults({ token: { response: { omit: ['refresh_token'] }, times: 1 } });
    const outcome = await doors.exchangeCode(
      { env: 'dev', databaseUrl, encryptionKeys: generateKeySpec('k1'), cwd: workDir('no-refresh-token') },
      code,
    );
    expect(outcome).toMatchObject({ reason: 'unexpected', exitCode: 1 });
    expect(outcome.message).toContain('refresh_token がありません');
    expect(outcome.message).toContain('発行されたトークンは AlarmBox で失効させました');
    expectNoSecret(outcome.message, code);
    expect(recorder.revocations).toHaveLength(1);
    const [revocation] = recorder.revocations;
    expect(revocation).toMatchObject({ hint: 'access_token', status: 200 });
    expect(outcome.message).not.toContain(revocation?.token ?? '');
    expect(await apiStatus(emulator, revocation?.token ?? '')).toBe(401);
  });
});

describe('the revocation fails too', () => {
  it('exchangeCode(): the message says the pair could not be revoked, and why', async () => {
    const databaseUrl = await migratedSqlite('revoke-fails');
    const handle = openDatabase(parseDatabaseUrl(databaseUrl));
    const code = await obtainCode(emulator);
    emulator.setFaults({ revoke: { status: 503 } });
    recorder.beforeTokenAnswer = async () => {
      await sql`drop table ${sql.table(TOKENS_TABLE)}`.execute(handle.db);
    };
    try {
      const outcome = await doors.exchangeCode(
        { env: 'dev', databaseUrl, encryptionKeys: generateKeySpec('k1'), cwd: workDir('revoke-fails') },
        code,
      );
      expect(outcome).toMatchObject({ reason: 'configuration', exitCode: 2 });
      expect(outcome.message).toContain('トークンを取得しましたが保存できませんでした');
      expect(outcome.message).toContain('発行されたトークンを AlarmBox で失効させることもできませんでした');
      expect(outcome.message).toContain('503');
      expect(outcome.message).toContain('alarmbox authorize-url');
      expectNoSecret(outcome.message, code);
      expect(recorder.revocations).toHaveLength(1);
      expect(recorder.revocations[0]?.status).toBe(503);
    } finally {
      await handle.close();
    }
  });
});
