// A full disk is named: SQLITE_FULL (or SQLITE_IOERR_SHMSIZE when not even the -shm file can grow) with the
// database file and "check the free space", a temporary failure (exit 5), the stored pair untouched. Before, the
// lease's insert failing with SQLITE_FULL was 予期しないエラー / 原因不明のエラー (exit 1). The disk is real: a small
// tmpfs this test mounts (root only; without it the tests are skipped and say why).
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { createToolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { DatabaseUnavailableError, parseDatabaseUrl, toDatabaseError } from '../../src/db/index.ts';
import { runCli } from '../support/cli.ts';

const mountPoint = mkdtempSync(join(tmpdir(), 'alarmbox-full-'));
/** Why no tmpfs could be mounted, or undefined when it is. */
const unavailable = (() => {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mountPoint], {
      stdio: 'pipe',
    });
    return undefined;
  } catch (error) {
    return `tmpfs を mount できません (root が必要): ${error instanceof Error ? error.message.split('\n')[0] : ''}`;
  }
})();

afterAll(() => {
  if (unavailable === undefined) execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

const KEYS = generateKeySpec('f1');
const file = join(mountPoint, 'alarmbox.db');
const filler = join(mountPoint, 'filler');
const env = (extra: Record<string, string> = {}) => ({
  DATABASE_URL: `sqlite:${file}`,
  ALARMBOX_ENV: 'dev',
  ALARMBOX_ENCRYPTION_KEYS: KEYS,
  ALARMBOX_CLIENT_ID: 'client-id-for-disk-full-test',
  ALARMBOX_CLIENT_SECRET: 'client-secret-for-disk-full-test',
  ALARMBOX_BASE_URL: 'http://127.0.0.1:9',
  ...extra,
});

/** Writes `filler` until the tmpfs refuses (ENOSPC), then gives back `leaveBytes`. */
function fillDisk(leaveBytes = 0): void {
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 1);
  let size = 0;
  try {
    for (;;) size += writeSync(fd, chunk);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  truncateSync(filler, Math.max(0, size - leaveBytes));
}

function expectDiskFullMessage(text: string, code: string): void {
  expect(text).toContain('データベースのディスクがいっぱいで書き込めません');
  expect(text).toContain(`sqlite ${file}: ${code}`);
  expect(text).toContain('ディスクの空きを確認');
  expect(text).not.toContain('予期しないエラー');
  expect(text).not.toContain('原因不明');
}

/** Registers a pair directly in the store (no AlarmBox needed) and returns its version. */
async function registerPair(): Promise<number> {
  const alarmbox = createToolkit({ ...options(), env: 'dev' });
  try {
    await alarmbox.tokens.saveInitialToken({
      accessToken: 'access-token-before-the-disk-filled',
      refreshToken: 'refresh-token-before-the-disk-filled',
      expiresIn: 3600,
    });
    return (await alarmbox.store.getInstance()).version;
  } finally {
    await alarmbox.close();
  }
}

function options() {
  return {
    databaseUrl: `sqlite:${file}`,
    encryptionKeys: KEYS,
    clientId: 'client-id-for-disk-full-test',
    clientSecret: 'client-secret-for-disk-full-test',
    baseUrl: 'http://127.0.0.1:9',
  };
}

async function expectPairUntouched(version: number): Promise<void> {
  rmSync(filler, { force: true });
  const alarmbox = createToolkit({ ...options(), env: 'dev' });
  try {
    const token = await alarmbox.store.getInstance();
    expect(token.version).toBe(version);
    expect(token.getDecryptedRefreshToken()).toBe('refresh-token-before-the-disk-filled');
  } finally {
    await alarmbox.close();
  }
}

describe.skipIf(unavailable !== undefined)(
  `a full disk under the SQLite file${unavailable === undefined ? '' : ` (${unavailable})`}`,
  () => {
    beforeEach(async () => {
      for (const name of ['filler', 'alarmbox.db', 'alarmbox.db-wal', 'alarmbox.db-shm'])
        rmSync(join(mountPoint, name), { force: true });
      const migrated = await runCli(['migrate'], env());
      expect(migrated.code, migrated.stderr).toBe(0);
    });

    it('refresh-token taking its lease: SQLITE_FULL named with the file, exit 5, the pair kept', async () => {
      const version = await registerPair();
      // Room for the -shm file a reader needs (32 KiB), none for the lease's write to the WAL.
      fillDisk(32 * 1024);
      const r = await runCli(['refresh-token', '--retries', '0'], env());
      expect(r.code, r.stderr).toBe(5);
      expectDiskFullMessage(r.stderr, 'SQLITE_FULL');
      await expectPairUntouched(version);
    });

    it('a disk with no room at all: SQLITE_IOERR_SHMSIZE is named as the same full disk, exit 5', async () => {
      const version = await registerPair();
      fillDisk(0);
      for (const args of [['status'], ['refresh-token', '--retries', '0']]) {
        const r = await runCli(args, env());
        expect(r.code, `${args[0]}: ${r.stderr}`).toBe(5);
        expectDiskFullMessage(r.stderr, 'SQLITE_IOERR_SHMSIZE');
      }
      await expectPairUntouched(version);
    });

    it('the library: refresh({ force: true }) taking the token lease fails as temporary, naming SQLITE_FULL', async () => {
      const version = await registerPair();
      const alarmbox = createToolkit({ ...options(), env: 'dev' });
      try {
        // Row 1 read first: the connection (and its -shm) is open before the disk fills.
        expect((await alarmbox.store.getInstance()).version).toBe(version);
        fillDisk(0);
        const error = await alarmbox.tokens.refresh({ force: true }).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toMatchObject({ reason: 'temporary' });
        expectDiskFullMessage((error as Error).message, 'SQLITE_FULL');
      } finally {
        await alarmbox.close();
      }
      await expectPairUntouched(version);
    });
  },
);

describe('the servers’ full-disk codes (the mapping only: filling a server’s disk is not for a test)', () => {
  it.each([
    ['postgres://app@127.0.0.1:5432/app', '53100'],
    ['mysql://app@127.0.0.1:3306/app', 'ER_RECORD_FILE_FULL'],
    ['mysql://app@127.0.0.1:3306/app', 'ER_DISK_FULL'],
  ])('%s %s: temporary, named, the server’s disk to check', (url, code) => {
    const driverError = Object.assign(new Error('disk full'), { code });
    const mapped = toDatabaseError(driverError, parseDatabaseUrl(url));
    expect(mapped).toBeInstanceOf(DatabaseUnavailableError);
    expect(mapped).toMatchObject({ reason: 'temporary', code });
    expect(mapped.message).toContain('データベースサーバーのディスクの空き');
  });
});
