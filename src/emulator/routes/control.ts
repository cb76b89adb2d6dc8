// The control API under `/__emulator/`: only the emulator has it (AlarmBox does not). Same operations
// as the RunningEmulator methods, for tests and people driving the emulator from another process.
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { jsonResponse } from '../doorkeeper-errors.ts';
import { FaultPlanError, parseFaultPlan } from '../faults.ts';
import { isJsonObject, readJsonBody } from '../params.ts';
import {
  type EmulatorEnv,
  type EmulatorState,
  MAX_CLOCK_OFFSET_SECONDS,
  resetEmulatorState,
} from '../state.ts';

/** Mounted under `/__emulator`. */
export function controlRoutes(state: EmulatorState): Hono<EmulatorEnv> {
  return new Hono<EmulatorEnv>()
    .get('/health', () => jsonResponse({ status: 'ok' }))
    .get('/stats', () => jsonResponse(state.stats.snapshot()))
    .get('/faults', () => jsonResponse(state.faults.current()))
    .put('/faults', async (c) => {
      const body = await readJsonBody(c.req.raw);
      try {
        state.faults.set(parseFaultPlan(body));
      } catch (error) {
        if (!(error instanceof FaultPlanError)) throw error;
        throw invalid({ error: 'invalid_fault_plan', message: error.message });
      }
      return jsonResponse(state.faults.current());
    })
    .get('/clock', () => clockResponse(state))
    .put('/clock', async (c) => {
      const body = await readJsonBody(c.req.raw);
      const offset = isJsonObject(body) ? body.offsetSeconds : undefined;
      if (
        typeof offset !== 'number' ||
        !Number.isFinite(offset) ||
        Math.abs(offset) > MAX_CLOCK_OFFSET_SECONDS
      ) {
        throw invalid({
          error: 'invalid_clock',
          message:
            'offsetSeconds に ±100 年以内の数値 (秒) を指定してください (例: {"offsetSeconds": 601})。',
        });
      }
      state.clock.setOffsetSeconds(offset);
      return clockResponse(state);
    })
    .post('/reset', () => {
      resetEmulatorState(state);
      return new Response(null, { status: 204 });
    });
}

function invalid(body: { readonly error: string; readonly message: string }): HTTPException {
  return new HTTPException(400, { res: jsonResponse(body, 400), message: body.message });
}

function clockResponse(state: EmulatorState): Response {
  return jsonResponse({
    offsetSeconds: state.clock.offsetSeconds,
    now: new Date(state.clock.nowMs()).toISOString(),
  });
}
