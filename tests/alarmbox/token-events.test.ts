// Token events (`alarmbox.onTokenEvent`) against the emulator over HTTP: each event with its payload and in its
// order, re-authorization once per episode, recovery by a refresh, a code exchange or another process's save,
// listeners that throw, reject or hang break and delay nothing, and no secret in any event.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AlarmboxTokenExpiredError, REAUTHORIZE_STEPS } from '../../src/alarmbox/errors.ts';
import { type TokenEvent, TokenEvents } from '../../src/alarmbox/token-events.ts';
import type { Toolkit } from '../../src/create.ts';
import { generateKeySpec } from '../../src/crypto/index.ts';
import type { FaultSpec, RunningEmulator } from '../../src/emulator/index.ts';
import { AlarmboxSecondaryFailure } from '../../src/secondary-failure.ts';
import { alarmboxFor, storedPair, useEmulatorWorld } from '../support/alarmbox.ts';
import { runCli } from '../support/cli.ts';
import { expectReason } from '../support/rejections.ts';
import { until } from '../support/until.ts';

const KEYS = generateKeySpec('e1');

/** Lets the deliveries already scheduled run (they start on the next turn of the event loop). */
const delivered = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('token events (SQLite)', () => {
  let emulator: RunningEmulator;
  let alarmbox: Toolkit;
  let env: Record<string, string>;
  let databaseUrl: string;
  const stops: (() => void)[] = [];

  useEmulatorWorld(
    {
      databaseUrl: () => `sqlite:${join(mkdtempSync(join(tmpdir(), 'alarmbox-events-')), 'events.db')}`,
      keys: KEYS,
    },
    (world) => {
      ({ emulator, alarmbox, env, databaseUrl } = world);
    },
  );

  afterEach(() => {
    for (const stop of stops.splice(0)) stop();
  });

  /** Every event of `alarmbox` from now on, in order. */
  const listen = (target: Toolkit = alarmbox): TokenEvent[] => {
    const events: TokenEvent[] = [];
    stops.push(target.onTokenEvent((event) => void events.push(event)));
    return events;
  };

  /** The stored pair's refresh token becomes unknown to AlarmBox (its grants dropped): the chain is dead. */
  const killChain = async () => {
    emulator.reset();
    await alarmbox.store.markExpired();
  };

  it('an online refresh that stores a new pair: refreshed, with trigger, duration and the new expiry', async () => {
    const events = listen();
    await alarmbox.store.markExpired();
    const before = Date.now();
    await alarmbox.tokens.getValidAccessToken();
    await until(() => events.length > 0, 5_000);
    await delivered();
    expect(events, 'one event for one refresh').toHaveLength(1);
    const [event] = events;
    expect(event).toMatchObject({ type: 'refreshed', trigger: 'online' });
    if (event?.type !== 'refreshed') return;
    expect(event.durationMs).toBeGreaterThanOrEqual(0);
    expect(event.at.getTime()).toBeGreaterThanOrEqual(before);
    expect(event.expiredAt.getTime()).toBe((await alarmbox.store.getInstance()).expiredAt?.getTime());
  });

  it('reads of a valid token and refreshes that find a fresh pair fire nothing', async () => {
    const events = listen();
    await alarmbox.tokens.getValidAccessToken();
    await alarmbox.tokens.refresh();
    await delivered();
    await delivered();
    expect(events, 'no refresh happened, no failure either').toEqual([]);
  });

  it.each<[string, FaultSpec]>([
    ['a 503', { status: 503, times: 1 }],
    ['a connection dropped before any answer', { drop: 'before', times: 1 }],
  ])(
    '%s: refresh_failed temporary; the next refresh: refreshed, then recovered via refresh',
    async (_name, fault) => {
      const events = listen();
      emulator.setFaults({ token: fault });
      await expectReason(alarmbox.tokens.refresh({ force: true }), 'temporary', AlarmboxTokenExpiredError);
      await alarmbox.tokens.refresh({ force: true, trigger: 'batch' });
      await until(() => events.length >= 3, 5_000);
      expect(events.map((e) => e.type)).toEqual(['refresh_failed', 'refreshed', 'recovered']);
      const [failed, refreshed, recovered] = events;
      expect(failed).toMatchObject({ trigger: 'manual', reason: 'temporary' });
      expect(failed?.type === 'refresh_failed' && failed.message).toContain('トークンの更新に失敗しました');
      expect(refreshed).toMatchObject({ trigger: 'batch' });
      expect(recovered).toMatchObject({
        via: 'refresh',
        failures: 1,
        reauthorizationRequired: false,
        failingSince: failed?.at,
        expiredAt: refreshed?.type === 'refreshed' ? refreshed.expiredAt : 'missing',
      });
    },
  );

  it('invalid_grant: refresh_failed on every call, reauthorization_required once; a code exchange: recovered', async () => {
    const events = listen();
    await killChain();
    for (let call = 0; call < 3; call++) {
      await expectReason(alarmbox.tokens.getValidAccessToken(), 'reauthorization_required');
    }
    await until(() => events.length >= 4, 5_000);
    expect(events.map((e) => e.type)).toEqual([
      'refresh_failed',
      'reauthorization_required',
      'refresh_failed',
      'refresh_failed',
    ]);
    expect(events[1]).toMatchObject({
      trigger: 'online',
      steps: REAUTHORIZE_STEPS,
      message: expect.stringContaining('invalid_grant'),
    });
    const saved = await alarmbox.exchangeCode(emulator.issueAuthorizationCode());
    await until(() => events.length >= 5, 5_000);
    expect(events[4]).toEqual({
      type: 'recovered',
      via: 'registration',
      at: expect.any(Date),
      failures: 3,
      failingSince: events[0]?.at,
      reauthorizationRequired: true,
      expiredAt: saved.expiredAt,
    });
  });

  it('a second dead chain after a recovery is a new episode: reauthorization_required again', async () => {
    const events = listen();
    await killChain();
    await expectReason(alarmbox.tokens.getValidAccessToken(), 'reauthorization_required');
    await alarmbox.exchangeCode(emulator.issueAuthorizationCode());
    await killChain();
    await expectReason(alarmbox.tokens.getValidAccessToken(), 'reauthorization_required');
    await until(() => events.length >= 5, 5_000);
    expect(events.map((e) => e.type)).toEqual([
      'refresh_failed',
      'reauthorization_required',
      'recovered',
      'refresh_failed',
      'reauthorization_required',
    ]);
  });

  it('a pair saved by another process (alarmbox save-token): the next read is recovered via peer', async () => {
    const events = listen();
    await killChain();
    await expectReason(alarmbox.tokens.getValidAccessToken(), 'reauthorization_required');
    const saved = await runCli(['save-token', '--code', emulator.issueAuthorizationCode()], env);
    expect(saved.code, saved.stderr).toBe(0);
    await alarmbox.tokens.getValidAccessToken();
    await until(() => events.length >= 3, 5_000);
    expect(events[2]).toMatchObject({
      type: 'recovered',
      via: 'peer',
      failures: 1,
      reauthorizationRequired: true,
      expiredAt: (await alarmbox.store.getInstance()).expiredAt,
    });
  });

  it('a forced refresh that failed while the access token is valid: reading that token is no recovery', async () => {
    const events = listen();
    emulator.reset();
    await expectReason(alarmbox.tokens.refresh({ force: true }), 'reauthorization_required');
    // The old access token is still valid to read, but its chain is dead: nothing has recovered.
    await alarmbox.tokens.getValidAccessToken();
    await alarmbox.tokens.refresh();
    await delivered();
    await delivered();
    expect(events.map((e) => e.type)).toEqual(['refresh_failed', 'reauthorization_required']);
  });

  it('throwing, rejecting and hanging listeners: the token is handed out first, the others still hear, each failure is a warning', async () => {
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => void warnings.push(warning);
    process.on('warning', onWarning);
    const hanging = Promise.withResolvers<void>();
    try {
      let handedOut = false;
      const seenAfterHandout: boolean[] = [];
      stops.push(
        alarmbox.onTokenEvent(() => {
          throw new Error('listener bug');
        }),
        alarmbox.onTokenEvent(() => Promise.reject(new Error('webhook down'))),
        alarmbox.onTokenEvent(() => hanging.promise),
      );
      stops.push(alarmbox.onTokenEvent(() => void seenAfterHandout.push(handedOut)));
      await alarmbox.store.markExpired();
      const token = await alarmbox.tokens.getValidAccessToken();
      handedOut = true;
      expect(token).toBe((await storedPair(alarmbox)).access);
      await until(() => seenAfterHandout.length > 0 && warnings.length >= 2, 5_000);
      expect(seenAfterHandout, 'the listener ran after the caller had its token').toEqual([true]);
      const ours = warnings.filter((w) => w instanceof AlarmboxSecondaryFailure);
      expect(ours, 'one warning per failing listener').toHaveLength(2);
      expect(ours[0]?.message).toContain('トークンのイベント refreshed のリスナー');
      // The next refresh works as ever.
      await alarmbox.tokens.refresh({ force: true });
    } finally {
      // Else the world's close() would wait for it, up to the HTTP timeout.
      hanging.resolve();
      process.off('warning', onWarning);
    }
  });

  it('close() waits for a delivery under way at most the HTTP timeout', async () => {
    const own = alarmboxFor(emulator, databaseUrl, KEYS, { httpTimeoutMs: 300 });
    let heard = false;
    own.onTokenEvent(() => {
      heard = true;
      return new Promise<void>(() => undefined);
    });
    await own.store.markExpired();
    await own.tokens.getValidAccessToken();
    await until(() => heard, 5_000);
    const started = performance.now();
    await own.close();
    const took = performance.now() - started;
    expect(took, 'bounded by the 300 ms HTTP timeout (plus the pool close)').toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3_000);
  });

  it('the returned function and an aborted signal remove a listener', async () => {
    const kept = listen();
    const removed: TokenEvent[] = [];
    const aborted: TokenEvent[] = [];
    const controller = new AbortController();
    const unsubscribe = alarmbox.onTokenEvent((event) => void removed.push(event));
    alarmbox.onTokenEvent((event) => void aborted.push(event), { signal: controller.signal });
    const late: TokenEvent[] = [];
    alarmbox.onTokenEvent((event) => void late.push(event), { signal: AbortSignal.abort() });
    unsubscribe();
    controller.abort();
    await alarmbox.tokens.refresh({ force: true });
    await until(() => kept.length > 0, 5_000);
    await delivered();
    expect([removed.length, aborted.length, late.length], 'removed listeners hear nothing').toEqual([
      0, 0, 0,
    ]);
  });

  it('no token, code or client secret in any event, even when AlarmBox quotes the request back', async () => {
    const events = listen();
    const secrets = new Set<string>([emulator.options.clientSecret]);
    const remember = async () => {
      const pair = await storedPair(alarmbox);
      secrets.add(pair.access).add(pair.refresh);
    };
    await remember();
    await alarmbox.tokens.refresh({ force: true });
    await remember();
    // A server that puts the request (the refresh token, the client secret) in its error answer.
    emulator.setFaults({ token: { status: 503, echo: true, times: 1 } });
    await expectReason(alarmbox.tokens.refresh({ force: true }), 'temporary');
    emulator.setFaults({ token: { oauthError: { error: 'invalid_grant' }, echo: true, times: 1 } });
    await expectReason(alarmbox.tokens.refresh({ force: true }), 'reauthorization_required');
    const code = emulator.issueAuthorizationCode();
    secrets.add(code);
    await alarmbox.exchangeCode(code);
    await remember();
    await alarmbox.tokens.refresh({ force: true });
    await remember();
    await until(() => events.length >= 6, 5_000);
    await delivered();
    // The refresh after the code exchange recovers nothing more: the episode ended with the exchange.
    expect(events.map((e) => e.type)).toEqual([
      'refreshed',
      'refresh_failed',
      'refresh_failed',
      'reauthorization_required',
      'recovered',
      'refreshed',
    ]);
    const serialized = JSON.stringify(events);
    expect(secrets.size, 'secrets collected').toBeGreaterThanOrEqual(7);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(8);
      expect(serialized).not.toContain(secret);
    }
  });
});

describe('token events: what counts as a pair saved since the failure', () => {
  const failedAt = new Date('2026-12-04T09:00:00.000Z');
  const episodeOf = () => {
    const events = new TokenEvents();
    const heard: TokenEvent[] = [];
    events.subscribe((event) => void heard.push(event));
    events.attempt({
      trigger: 'batch',
      startedAt: failedAt,
      durationMs: 5,
      outcome: 'reauthorization_required',
    });
    return { events, heard };
  };

  it('a pair saved in the very millisecond the failed attempt began is the failed one: no recovery', async () => {
    const { events, heard } = episodeOf();
    events.read({ issuedAt: new Date(failedAt.getTime()), expiredAt: null });
    await events.idle(1_000);
    expect(heard.map((e) => e.type)).toEqual(['refresh_failed', 'reauthorization_required']);
  });

  it('a pair saved one millisecond later is a new one: recovered via peer', async () => {
    const { events, heard } = episodeOf();
    const expiredAt = new Date(failedAt.getTime() + 7_200_000);
    events.read({ issuedAt: new Date(failedAt.getTime() + 1), expiredAt });
    await events.idle(1_000);
    expect(heard.at(-1)).toMatchObject({ type: 'recovered', via: 'peer', failures: 1, expiredAt });
  });
});
