// The grant strategies on a real emulator state, for what HTTP alone cannot set up: a stored token whose
// lifetime differs from the current configuration (as after a configuration change).
import { describe, expect, it } from 'vitest';
import { refreshTokenGrant } from '../../src/emulator/grants.ts';
import { resolveEmulatorOptions } from '../../src/emulator/options.ts';
import { createEmulatorState } from '../../src/emulator/state.ts';

function stateWith(accessTtl: number | null, rotation: 'on_use' | 'immediate' = 'on_use') {
  return createEmulatorState(resolveEmulatorOptions({ accessTtl, rotation, quiet: true }), () => {});
}

const credentials = { uid: 'local-client-id', secret: 'local-client-secret' };

describe('refresh_token grant lifetime', () => {
  it.each([
    [60, 7200],
    [60, null],
    [null, 7200],
  ] as const)(
    'keeps the old token lifetime when accessTtl is %s and the token had %s',
    (configured, stored) => {
      const state = stateWith(configured);
      const old = state.store.createAccessToken({
        applicationUid: 'local-client-id',
        resourceOwnerId: 1,
        scopes: ['read'],
        expiresIn: stored,
        nowMs: state.clock.nowMs(),
      });
      const outcome = refreshTokenGrant(state, new Map([['refresh_token', old.refreshToken]]), credentials);
      expect(outcome.ok).toBe(true);
      if (outcome.ok) expect(outcome.token.expiresIn).toBe(stored);
    },
  );

  it('records the previous refresh token only in on_use mode', () => {
    for (const rotation of ['on_use', 'immediate'] as const) {
      const state = stateWith(60, rotation);
      const old = state.store.createAccessToken({
        applicationUid: 'local-client-id',
        resourceOwnerId: 1,
        scopes: ['read'],
        expiresIn: 60,
        nowMs: state.clock.nowMs(),
      });
      const outcome = refreshTokenGrant(state, new Map([['refresh_token', old.refreshToken]]), credentials);
      if (!outcome.ok) throw new Error('refresh refused');
      expect(outcome.token.previousRefreshToken).toBe(rotation === 'on_use' ? old.refreshToken : '');
      expect(old.revokedAtMs === null).toBe(rotation === 'on_use');
    }
  });
});
