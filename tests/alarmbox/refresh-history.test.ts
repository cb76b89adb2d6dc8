// The refresh history on every database: bounded to the newest N rows, newest first, no secret kept, and
// the failure streak that `status` and monitoring read.
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { RefreshHistory } from '../../src/alarmbox/refresh-history.ts';
import type { RefreshAttempt } from '../../src/alarmbox/token-service.ts';
import { migrateToLatest } from '../../src/db/migrate.ts';
import { REFRESH_HISTORY_TABLE } from '../../src/db/schema.ts';
import { AlarmboxError } from '../../src/errors.ts';
import { describeEachDatabase } from '../support/databases.ts';

const at = (minute: number) => new Date(Date.UTC(2026, 10, 25, 9, minute));
const attempt = (
  minute: number,
  outcome: RefreshAttempt['outcome'],
  trigger: RefreshAttempt['trigger'] = 'online',
  message?: string,
): RefreshAttempt => ({ trigger, startedAt: at(minute), durationMs: 12.6, outcome, message });

describeEachDatabase('refresh history', (fixture) => {
  beforeAll(async () => {
    await migrateToLatest(fixture.handle);
  });
  beforeEach(async () => {
    await fixture.handle.db.deleteFrom(REFRESH_HISTORY_TABLE).execute();
  });

  it('keeps only the newest `size` attempts, newest first', async () => {
    const history = new RefreshHistory(fixture.handle, { size: 3 });
    for (let minute = 1; minute <= 7; minute++) await history.record(attempt(minute, 'ok'));
    const recent = await history.recent(10);
    expect(recent.map((entry) => entry.attemptedAt.toISOString())).toEqual([
      at(7).toISOString(),
      at(6).toISOString(),
      at(5).toISOString(),
    ]);
    expect(recent[0]).toMatchObject({ trigger: 'online', outcome: 'ok', durationMs: 13, message: null });
    const rows = await fixture.handle.db.selectFrom(REFRESH_HISTORY_TABLE).select('id').execute();
    expect(rows).toHaveLength(3);
  });

  it('counts failures since the last success; skipped attempts neither count nor reset', async () => {
    const history = new RefreshHistory(fixture.handle);
    await history.record(attempt(1, 'ok', 'batch'));
    await history.record(attempt(2, 'ok', 'online'));
    await history.record(attempt(3, 'temporary', 'batch', 'AlarmBox が一時的に応答できません (503)'));
    await history.record(attempt(4, 'skipped', 'online'));
    await history.record(attempt(5, 'reauthorization_required', 'batch', 'invalid_grant'));
    const summary = await history.summary(2);
    expect(summary.consecutiveFailures).toBe(2);
    expect(summary.lastSuccessAt?.toISOString()).toBe(at(2).toISOString());
    expect(summary.lastBatchSuccessAt?.toISOString()).toBe(at(1).toISOString());
    expect(summary.recent.map((entry) => entry.outcome)).toEqual(['reauthorization_required', 'skipped']);
  });

  it('a revocation ends the failure streak of the pair it removed, and is no success', async () => {
    const history = new RefreshHistory(fixture.handle);
    await history.record(attempt(1, 'ok', 'batch'));
    await history.record(attempt(2, 'reauthorization_required', 'batch', 'invalid_grant'));
    await history.record(attempt(3, 'reauthorization_required', 'online', 'invalid_grant'));
    await history.record({ ...attempt(4, 'ok', 'manual'), outcome: 'revoked_locally' });
    await history.record(attempt(5, 'not_registered', 'batch'));
    const summary = await history.summary(5);
    expect(summary.consecutiveFailures, 'failures since the revocation').toBe(1);
    expect(summary.lastSuccessAt?.toISOString()).toBe(at(1).toISOString());
    expect(summary.recent.map((entry) => entry.outcome)).toContain('revoked_locally');
  });

  it('the recorder keeps what an operator needs, not the online callers that found a fresh pair', async () => {
    const history = new RefreshHistory(fixture.handle);
    history.recorder(attempt(1, 'skipped', 'online'));
    history.recorder(attempt(2, 'skipped', 'batch'));
    history.recorder(attempt(3, 'temporary', 'online', '503'));
    history.recorder(attempt(4, 'ok', 'online'));
    await history.flush();
    // The writes run side by side on a pool: their order in the table is not the order of the calls.
    const kept = (await history.recent(10)).map((entry) => `${entry.trigger} ${entry.outcome}`).sort();
    expect(kept).toEqual(['batch skipped', 'online ok', 'online temporary']);
  });

  it('redacts secrets from the stored message and bounds its length', async () => {
    const history = new RefreshHistory(fixture.handle);
    const secret = 'Abcdefghij_klmnopqrstuvwxyz-0123456789ABCD'; // 43 chars, like an AlarmBox token
    await history.record(attempt(1, 'unexpected', 'manual', `refresh_token=${secret} ${'あ'.repeat(3000)}`));
    const [entry] = await history.recent(1);
    expect(entry?.message).not.toContain(secret);
    expect(entry?.message?.length).toBeLessThanOrEqual(1024);
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new RefreshHistory(fixture.handle, { size: 0 })).toThrow(AlarmboxError);
    expect(() => new RefreshHistory(fixture.handle, { size: 1.5 })).toThrow(AlarmboxError);
  });
});
