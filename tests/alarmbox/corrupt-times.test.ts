// A corrupt time in row 1 blocks nothing: the forced refresh (the batch) never needs `expired_at`, a lazy read
// takes an unreadable or impossible expiry for expired and refreshes, and each stores a good expiry again.
// Before, reading the row threw DatabaseTimeValueError: `refresh-token` and `status` exited 1 for a value a
// refresh would have replaced. docs/design.md「壊れた日時の列」.
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { TOKENS_TABLE } from '../../src/db/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { useEmulatorWorld } from '../support/alarmbox.ts';
import { runCli } from '../support/cli.ts';
import { type DatabaseKind, describeEachDatabase } from '../support/databases.ts';

/** Values each database lets a time column hold that are not an instant this package could have stored. */
const CORRUPT: Record<DatabaseKind, readonly string[]> = {
  // No time type: any text, including one shaped like a time that is not one.
  sqlite: ['not a time', '2026-13-45 99:99:99', '', '9999-12-31 23:59:59.999'],
  // The zero date (allowed without NO_ZERO_DATE in sql_mode), and a far-future one.
  mysql: ['0000-00-00 00:00:00', '9999-12-31 23:59:59.999'],
  // `infinity` is a valid timestamptz, but not an instant.
  postgres: ['infinity', '-infinity', '9999-12-31 23:59:59.999+00'],
};

describeEachDatabase('a corrupt time in row 1', (fixture) => {
  let alarmbox: Toolkit;
  let emulator: RunningEmulator;
  let env: Record<string, string>;
  useEmulatorWorld({ databaseUrl: () => fixture.url, keys: generateKeySpec('t1') }, (world) => {
    ({ alarmbox, emulator, env } = world);
  });

  /** Writes `value` into `column` of row 1 as the database takes it (MariaDB: a session without strict mode). */
  const corrupt = async (column: 'expired_at' | 'updated_at', value: string) => {
    await alarmbox.database.db.connection().execute(async (db) => {
      if (fixture.kind === 'mysql') await sql`set session sql_mode = ''`.execute(db);
      await sql`update ${sql.table(TOKENS_TABLE)} set ${sql.ref(column)} = ${value} where id = 1`.execute(db);
      if (fixture.kind === 'mysql') await sql`set session sql_mode = default`.execute(db);
    });
  };
  const tokenRequests = () => emulator.stats().tokenRequests.refresh_token?.ok ?? 0;
  const expectGoodExpiry = async () => {
    const token = await alarmbox.store.getInstance();
    expect(token.expiredAt).not.toBeNull();
    expect(token.expiredAt?.getTime()).toBeGreaterThan(Date.now());
  };

  for (const value of CORRUPT[fixture.kind]) {
    it(`expired_at = ${JSON.stringify(value)}: read as unknown, not an error`, async () => {
      await corrupt('expired_at', value);
      const token = await alarmbox.store.getInstance();
      expect(token.isRegistered).toBe(true);
      expect(token.expiredAt).toBeNull();
    });

    it(`expired_at = ${JSON.stringify(value)}: a forced refresh works and stores a good expiry`, async () => {
      await corrupt('expired_at', value);
      const result = await alarmbox.tokens.refresh({ force: true });
      expect(result.refreshed).toBe(true);
      await expectGoodExpiry();
    });

    it(`expired_at = ${JSON.stringify(value)}: a lazy read counts it as expired, refreshes once`, async () => {
      const before = (await alarmbox.store.getInstance()).getDecryptedAccessToken();
      await corrupt('expired_at', value);
      const requests = tokenRequests();
      const access = await alarmbox.tokens.getValidAccessToken();
      expect(access).not.toBe(before);
      expect(tokenRequests(), 'token requests at AlarmBox').toBe(requests + 1);
      await expectGoodExpiry();
      // Healed: the next read uses the new pair without another request.
      expect(await alarmbox.tokens.getValidAccessToken()).toBe(access);
      expect(tokenRequests(), 'token requests at AlarmBox').toBe(requests + 1);
    });
  }

  it('updated_at unreadable too: both refreshes still work', async () => {
    await corrupt('expired_at', CORRUPT[fixture.kind][0] ?? '');
    await corrupt('updated_at', CORRUPT[fixture.kind][0] ?? '');
    expect((await alarmbox.store.getInstance()).updatedAt).toBeNull();
    await alarmbox.tokens.getValidAccessToken();
    await expectGoodExpiry();
    await corrupt('updated_at', CORRUPT[fixture.kind][0] ?? '');
    expect((await alarmbox.tokens.refresh({ force: true })).refreshed).toBe(true);
  });

  it('the CLI: status shows the expiry as unknown, refresh-token exits 0 and heals it', async () => {
    await corrupt('expired_at', CORRUPT[fixture.kind][0] ?? '');
    const status = await runCli(['status'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/有効期限:\s+.*不明/);
    const refreshed = await runCli(['refresh-token'], env);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    await expectGoodExpiry();
  });
});
