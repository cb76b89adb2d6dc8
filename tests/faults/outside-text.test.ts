// Text from outside is terminal-safe: AlarmBox's `error`, `error_description` and `scope` with ESC sequences,
// BEL, NUL, CR, LF, C1 controls and bidi overrides go through `refresh-token` (text and JSON log), `save-token`
// and `status` (which replays the stored message), and no such character reaches stdout, stderr or the stored
// rows: no forged 「トークンを保存しました」 line, every JSON log line parses. Also the column guard of every
// auxiliary text (outcome, message) on each database.
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { REFRESH_HISTORY_TABLE, TOKENS_TABLE } from '../../src/db/schema.ts';
import { type FaultSpec, type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import type { FailureReason } from '../../src/failure-reason.ts';
import { alarmboxFor, emulatorEnv, registerToken } from '../support/alarmbox.ts';
import { obtainCode } from '../support/authorize.ts';
import { type CliResult, runCli } from '../support/cli.ts';
import { ANY_CONTROL, CONTROL_EXCEPT_LF } from '../support/controls.ts';
import { describeEachDatabase } from '../support/databases.ts';

/** Clears the line, moves up, writes a success line of its own, rings, and hides the rest. */
const FORGED =
  '\r\n\u001b[2K\u001b[1Aトークンを保存しました (有効期限: 2099/01/01 09:00)\u0007\u0000\u009b2J\u0085\u2028\u202e';

const FORGED_400: FaultSpec = {
  oauthError: { status: 400, error: `invalid_grant${FORGED}`, error_description: FORGED },
  times: 1,
};
const FORGED_SCOPE: FaultSpec = { response: { set: { scope: `credit_checks:read${FORGED}` } }, times: 1 };

function expectTerminalSafe(r: CliResult, forgedLineAllowed = false): void {
  for (const out of [r.stdout, r.stderr]) {
    expect(out).not.toMatch(CONTROL_EXCEPT_LF);
    if (!forgedLineAllowed) {
      for (const line of out.split('\n')) expect(line.trimStart()).not.toMatch(/^トークンを保存しました/);
    }
  }
}

describeEachDatabase('text from AlarmBox is terminal-safe', (fixture) => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;
  const keys = generateKeySpec('t1');
  const env = () => emulatorEnv(emulator, fixture.url, keys);

  /** Row 1 and the newest history rows as stored, not as the store hands them out. */
  async function storedTexts(historyRows = 3): Promise<string[]> {
    await alarmbox.history.flush();
    const row = await fixture.handle.db.selectFrom(TOKENS_TABLE).selectAll().executeTakeFirst();
    const history = await fixture.handle.db
      .selectFrom(REFRESH_HISTORY_TABLE)
      .selectAll()
      .orderBy('id', 'desc')
      .limit(historyRows)
      .execute();
    return [
      row?.scope ?? '',
      row?.last_error ?? '',
      row?.last_refresh_outcome ?? '',
      ...history.flatMap((h) => [h.message ?? '', h.outcome]),
    ];
  }

  beforeAll(async () => {
    emulator = await startEmulator({ port: 0, autoApprove: true, quiet: true, rotation: 'immediate' });
    alarmbox = alarmboxFor(emulator, fixture.url, keys);
    await migrateToLatest(alarmbox.database);
  });
  afterAll(async () => {
    await alarmbox?.close();
    await emulator?.close();
  });
  beforeEach(async () => {
    emulator.reset();
    await registerToken(alarmbox, emulator);
  });

  it('a 400 with forged error and error_description: refresh-token, then status, print no control character', async () => {
    emulator.setFaults({ token: FORGED_400 });
    const refresh = await runCli(['refresh-token'], env());
    expect(refresh.code).not.toBe(0);
    expect(refresh.stderr).toContain('\\x1b');
    expectTerminalSafe(refresh);
    for (const text of await storedTexts()) expect(text).not.toMatch(ANY_CONTROL);

    const status = await runCli(['status'], env());
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('最後のエラー');
    expectTerminalSafe(status);
    const json = await runCli(['status', '--json'], env());
    expectTerminalSafe(json);
    const report = JSON.parse(json.stdout) as { lastError: string; history: { message: string | null }[] };
    expect(report.lastError).not.toMatch(ANY_CONTROL);
    for (const h of report.history) expect(h.message ?? '').not.toMatch(ANY_CONTROL);
  });

  it('the JSON log of the job: one valid line per event, no control character in any value', async () => {
    emulator.setFaults({ token: FORGED_400 });
    const r = await runCli(['refresh-token', '--log-format', 'json', '--retries', '0'], env());
    expect(r.code).not.toBe(0);
    expectTerminalSafe(r);
    const lines = r.stdout.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      for (const value of Object.values(entry)) {
        if (typeof value === 'string') expect(value).not.toMatch(ANY_CONTROL);
      }
    }
    expect(lines.join('\n')).toContain('\\\\x1b');
  });

  it('a 200 with a forged scope: refresh-token saves the pair, status shows the scope escaped, the next refresh works', async () => {
    emulator.setFaults({ token: FORGED_SCOPE });
    const refresh = await runCli(['refresh-token'], env());
    expect(refresh.code).toBe(0);
    expectTerminalSafe(refresh);
    for (const text of await storedTexts()) expect(text).not.toMatch(ANY_CONTROL);
    const status = await runCli(['status'], env());
    expect(status.stdout).toContain('scope_control_characters');
    expect(status.stdout).toMatch(/スコープ: +credit_checks:read/);
    expectTerminalSafe(status);
    // Immediate rotation: the pair of the odd answer was the one kept.
    expect((await runCli(['refresh-token'], env())).code).toBe(0);
  });

  it('save-token: a forged 400 prints no forged line; a forged scope is saved escaped', async () => {
    emulator.setFaults({ token: FORGED_400 });
    const refused = await runCli(['save-token', '--code', await obtainCode(emulator)], env());
    expect(refused.code).not.toBe(0);
    expectTerminalSafe(refused);

    emulator.setFaults({ token: FORGED_SCOPE });
    const saved = await runCli(['save-token', '--code', await obtainCode(emulator)], env());
    expect(saved.code).toBe(0);
    // Our own success line, once, and nothing forged around it.
    expect(saved.stdout.split('\n').filter((line) => line.startsWith('トークンを保存しました'))).toHaveLength(
      1,
    );
    expectTerminalSafe(saved, true);
    for (const text of await storedTexts()) expect(text).not.toMatch(ANY_CONTROL);
  });

  it('rows written before this fix (or by hand) are shown escaped by status', async () => {
    // No NUL: PostgreSQL never stored one.
    const raw = 'x\r\n\u001b[2Kトークンを保存しました\u0007\u009b\u202e';
    await fixture.handle.db
      .updateTable(TOKENS_TABLE)
      .set({ scope: raw, last_error: raw, last_refresh_outcome: 'temporary' })
      .where('id', '=', 1)
      .execute();
    await alarmbox.history.record({
      trigger: 'manual',
      startedAt: new Date(),
      durationMs: 1,
      outcome: 'temporary',
      message: 'placeholder',
    });
    await fixture.handle.db
      .updateTable(REFRESH_HISTORY_TABLE)
      .set({ message: raw })
      .where('message', '=', 'placeholder')
      .execute();
    const status = await runCli(['status'], env());
    expect(status.stdout).toContain('\\x1b[2K');
    expectTerminalSafe(status);
    const doctor = await runCli(['doctor'], env());
    expectTerminalSafe(doctor);
  });

  it('an outcome or message of any text and length is stored fitted to its column', async () => {
    const odd = `x\u0000\u001b\ud800${'y'.repeat(5_000)}` as FailureReason;
    await alarmbox.store.recordFailure(odd, `m\u0000\ud800${'z'.repeat(5_000)}`);
    await alarmbox.history.record({
      trigger: 'batch',
      startedAt: new Date(),
      durationMs: 1,
      outcome: odd,
      message: `m\u0000\udc00${'z'.repeat(5_000)}`,
    });
    // The row and the one history row written here (the previous test left raw rows on purpose).
    const texts = await storedTexts(1);
    for (const text of texts) {
      expect(text).not.toMatch(ANY_CONTROL);
    }
    const row = await alarmbox.store.getInstance();
    expect(row.lastRefreshOutcome?.length).toBeLessThanOrEqual(64);
    expect(row.lastError?.length).toBeLessThanOrEqual(1024);
  });
});
