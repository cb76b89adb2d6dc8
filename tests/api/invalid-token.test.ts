// The 401 rule (docs/design.md「AlarmBox について分かっていること」) with real processes: another process rotates the token while this
// one holds the old one in its cache; two processes hit the same 401 at once; a 401 that persists.
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmboxTokenExpiredError } from '../../src/alarmbox/errors.ts';
import type { RetryEvent } from '../../src/api/client.ts';
import { AlarmboxApiCallError, AlarmboxApiUnauthorizedError } from '../../src/api/errors.ts';
import { type ApiFixture, useApiFixture } from '../support/api-fixture.ts';
import { NodeScript } from '../support/node-scripts.ts';
import { expectReasonOf } from '../support/rejections.ts';

interface ChildResult {
  readonly ok: boolean;
  readonly reason?: string;
  readonly message?: string;
  readonly refreshed?: boolean;
  readonly retries: RetryEvent[];
}

let f: ApiFixture;
let child: NodeScript | undefined;

/** Runs one command in the child process and returns what it printed. */
async function inChild(command: 'call' | 'refresh', round: number): Promise<ChildResult> {
  child!.send(`${command} ${round}`);
  const line = await child!.waitForLine(`result:${round} `);
  f.outputs.push(line);
  return JSON.parse(line.slice(line.indexOf(' ') + 1)) as ChildResult;
}

const refreshes = () => f.emulator.stats().tokenRequests.refresh_token.ok ?? 0;

useApiFixture((fixture) => {
  f = fixture;
});
afterEach(async () => {
  child?.send('exit');
  await child?.exited();
  child = undefined;
});

describe('401 invalid_token', () => {
  it('another process rotated the token: one retry with the stored token, no refresh of our own', async () => {
    child = new NodeScript('api-caller.ts', [], f.registered.env);
    await child.waitForLine('ready');
    const api = f.api();
    expect((await api.creditChecks.create({ corporation_number: '0000000000002' })).result).toBe('hold');
    const cached = await api.tokens.getValidAccessToken();

    // The scheduled job in another process rotates the pair; its first use of the new access token retires
    // the old pair (Doorkeeper's on_use rotation), so the token this process holds is now revoked.
    expect(await inChild('refresh', 1)).toMatchObject({ ok: true, refreshed: true });
    expect(await inChild('call', 2)).toMatchObject({ ok: true, retries: [] });
    expect(await api.tokens.getValidAccessToken()).toBe(cached); // still cached here
    expect(refreshes(), 'refreshes at AlarmBox').toBe(1);

    const bought = await api.creditChecks.create({ corporation_number: '0000000000003' });
    expect(bought.result).toBe('ng');
    expect(api.retries).toEqual([
      expect.objectContaining({ cause: 'invalid_token', method: 'POST', attempt: 1, refreshed: false }),
    ]);
    expect(refreshes(), 'refreshes at AlarmBox').toBe(1); // none by this process
    // Ours, the child's, then ours again: rejected once, accepted on the retry.
    expect(f.emulator.stats().apiRequests, 'API requests at AlarmBox').toEqual({ ok: 3, invalid_token: 1 });
    expect(await api.tokens.getValidAccessToken()).not.toBe(cached);
  });

  it('two processes get 401 for the same stored token: exactly one refresh between them, both succeed', async () => {
    child = new NodeScript('api-caller.ts', [], f.registered.env);
    await child.waitForLine('ready');
    const api = f.api();
    // Both processes cache the same token.
    expect(await inChild('call', 1)).toMatchObject({ ok: true });
    await api.creditChecks.create({ corporation_number: '0000000000001' });
    // AlarmBox's clock says the token has expired; ours does not (clock skew): the store still holds it.
    f.emulator.setClockOffset(2 * 86_400);

    const [mine, theirs] = await Promise.all([
      api.creditChecks.create({ corporation_number: '0000000000001' }),
      inChild('call', 2),
    ]);
    expect(mine.result).toBe('ok');
    expect(theirs).toMatchObject({ ok: true });
    expect(refreshes(), 'refreshes at AlarmBox').toBe(1);
    const rule = [...api.retries, ...theirs.retries];
    expect(rule.map((r) => r.cause)).toEqual(['invalid_token', 'invalid_token']);
    // One process refreshed; the other found the stored token already replaced (under the lock or before).
    expect(rule.filter((r) => r.refreshed === true)).toHaveLength(1);
    expect(f.emulator.stats().apiRequests, 'API requests at AlarmBox').toEqual({ ok: 4, invalid_token: 2 });
  });

  it('in one process: the stored token is the one that failed → exactly one forced refresh, one retry', async () => {
    const api = f.api();
    await api.creditChecks.create({ corporation_number: '0000000000001' });
    f.emulator.setClockOffset(2 * 86_400);
    const calls = await Promise.all([
      api.creditChecks.get(1),
      api.creditChecks.get(1),
      api.creditChecks.get(1),
    ]);
    expect(calls.map((c) => c.result)).toEqual(['ok', 'ok', 'ok']);
    // All three were sent with the cached token and rejected; TokenService shares one refresh among them.
    expect(refreshes(), 'refreshes at AlarmBox').toBe(1);
    expect(api.retries.map((r) => r.cause)).toEqual(['invalid_token', 'invalid_token', 'invalid_token']);
    expect(f.emulator.stats().apiRequests, 'API requests at AlarmBox').toEqual({ ok: 4, invalid_token: 3 });
  });

  it('never loops: a second 401 after the refresh is an error saying what to do', async () => {
    const api = f.api();
    f.emulator.setFaults({ api: { status: 401 } });
    const error = await f.failure(api.creditChecks.create({ corporation_number: '0000000000001' }));
    expect(error).toBeInstanceOf(AlarmboxApiUnauthorizedError);
    expect(error).toMatchObject({ reason: 'reauthorization_required', statusCode: 401 });
    expect(error.message).toContain('1 回だけ再試行');
    expect(error.message).toContain('alarmbox save-token --code');
    expect(f.emulator.stats().faultsInjected.api, 'API faults injected').toBe(2);
    expect(refreshes(), 'refreshes at AlarmBox').toBe(1);
    // Rejected before the controller ran: nothing was bought.
    expect(f.emulator.stats().apiRequests, 'API requests at AlarmBox').toEqual({});
  });

  it('when the refresh itself fails (the grant is gone), that error is reported and nothing is retried', async () => {
    const api = f.api();
    await api.creditChecks.create({ corporation_number: '0000000000001' });
    f.emulator.reset(); // AlarmBox forgot every token: 401 for the access token, invalid_grant for the refresh
    const error = await f.failure(api.creditChecks.get(1));
    expectReasonOf(error, 'reauthorization_required', AlarmboxTokenExpiredError);
    expect(f.emulator.stats().apiRequests, 'API requests at AlarmBox').toEqual({ invalid_token: 1 });
    expect(f.emulator.stats().tokenRequests.refresh_token, 'refreshes at AlarmBox').toEqual({
      invalid_grant: 1,
    });
  });

  it('a 401 without error="invalid_token" does not touch the token', async () => {
    const api = f.api();
    // The token endpoint answers 401 invalid_client with an OAuth body: no Bearer invalid_token challenge.
    const error = await f.failure(
      api.request('POST', '/oauth/token', {
        grant_type: 'authorization_code',
        code: 'x',
        redirect_uri: 'urn:ietf:wg:oauth:2.0:oob',
        client_id: 'nobody',
        client_secret: 'nothing',
      }),
    );
    expect(error).toBeInstanceOf(AlarmboxApiCallError);
    expect(error.statusCode).toBe(401);
    expect(error.message).toContain('トークンの更新はしていません');
    expect(refreshes(), 'refreshes at AlarmBox').toBe(0);
  });
});
