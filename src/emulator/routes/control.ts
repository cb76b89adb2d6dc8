// The control API under `/__emulator/`: only the emulator has it (AlarmBox does not). Same operations
// as the RunningEmulator methods, for tests and people driving the emulator from another process.
import type { Hono } from 'hono';
import { MAX_CLOCK_OFFSET_SECONDS } from '../clock.ts';
import { jsonResponse } from '../doorkeeper-errors.ts';
import { FaultPlanError, parseFaultPlan } from '../faults.ts';
import { readJsonBody } from '../params.ts';
import { type EmulatorEnv, type EmulatorState, resetEmulatorState } from '../state.ts';

export function registerControlRoutes(app: Hono<EmulatorEnv>, state: EmulatorState): void {
  app.get('/__emulator/health', () => jsonResponse({ status: 'ok' }));
  app.get('/__emulator/stats', () => jsonResponse(state.stats.snapshot()));
  app.get('/__emulator/faults', () => jsonResponse(state.faults.current()));
  app.put('/__emulator/faults', async (c) => {
    try {
      state.faults.set(parseFaultPlan(await readJsonBody(c.req.raw)));
    } catch (error) {
      if (error instanceof FaultPlanError) {
        return jsonResponse({ error: 'invalid_fault_plan', message: error.message }, 400);
      }
      throw error;
    }
    return jsonResponse(state.faults.current());
  });
  app.get('/__emulator/clock', () => clockResponse(state));
  app.put('/__emulator/clock', async (c) => {
    const body = await readJsonBody(c.req.raw);
    const offset =
      typeof body === 'object' && body !== null ? (body as Record<string, unknown>).offsetSeconds : undefined;
    if (
      typeof offset !== 'number' ||
      !Number.isFinite(offset) ||
      Math.abs(offset) > MAX_CLOCK_OFFSET_SECONDS
    ) {
      return jsonResponse(
        {
          error: 'invalid_clock',
          message:
            'offsetSeconds に ±100 年以内の数値 (秒) を指定してください (例: {"offsetSeconds": 601})。',
        },
        400,
      );
    }
    state.clock.setOffsetSeconds(offset);
    return clockResponse(state);
  });
  app.post('/__emulator/reset', () => {
    resetEmulatorState(state);
    return new Response(null, { status: 204 });
  });
}

function clockResponse(state: EmulatorState): Response {
  return jsonResponse({
    offsetSeconds: state.clock.offsetSeconds,
    now: new Date(state.clock.nowMs()).toISOString(),
  });
}
