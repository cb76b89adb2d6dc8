// The protected API: `POST /ps/v1/credit_checks` and `GET /ps/v1/credit_checks/{id}` (docs/design.md「AlarmBox について分かっていること」).
import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { authorizeApiRequest } from '../bearer.ts';
import {
  creditCheckDetail,
  creditCheckSummary,
  type FieldError,
  parseCreditCheckInput,
} from '../credit-checks.ts';
import { jsonResponse } from '../doorkeeper-errors.ts';
import { faults } from '../fault-injection.ts';
import { parseQuery, readJsonBody } from '../params.ts';
import type { EmulatorEnv, EmulatorState } from '../state.ts';

/** Mounted under `/ps/v1`. */
export function creditCheckRoutes(state: EmulatorState): Hono<EmulatorEnv> {
  const withFaults = faults(state, 'api');
  return new Hono<EmulatorEnv>()
    .post('/credit_checks', withFaults, (c) => create(state, c))
    .get('/credit_checks/:id', withFaults, (c) => show(state, c));
}

async function create(state: EmulatorState, c: Context<EmulatorEnv>): Promise<Response> {
  // Authentication comes first (a before_action), the body only afterwards.
  const auth = authorizeApiRequest(state, c, 'credit_check:create');
  if (!auth.ok) return answer(state, auth.outcome, auth.response);
  let body: unknown;
  try {
    body = await readJsonBody(c.req.raw);
  } catch (error) {
    // The API answers malformed input in its own error shape, not the OAuth one of the token endpoint.
    if (!(error instanceof HTTPException)) throw error;
    if (error.status === 413) return answer(state, 'payload_too_large', jsonResponse({ errors: [] }, 413));
    return answer(
      state,
      'bad_request',
      badRequest([{ field: 'base', message: 'JSON として解釈できないリクエストボディです。' }]),
    );
  }
  const parsed = parseCreditCheckInput(body);
  if (!parsed.ok) return answer(state, 'bad_request', badRequest(parsed.errors));
  const record = state.creditChecks.create(parsed.input, state.clock.nowMs());
  return answer(state, 'ok', jsonResponse({ credit_check: creditCheckSummary(record) }));
}

function show(state: EmulatorState, c: Context<EmulatorEnv>): Response {
  const auth = authorizeApiRequest(state, c, 'read');
  if (!auth.ok) return answer(state, auth.outcome, auth.response);
  const id = c.req.param('id') ?? '';
  const record = /^\d{1,15}$/.test(id) ? state.creditChecks.get(Number(id)) : undefined;
  if (record === undefined) {
    return answer(
      state,
      'not_found',
      jsonResponse(
        { errors: [{ field: 'credit_check_id', message: '指定された信用チェックは見つかりません。' }] },
        404,
      ),
    );
  }
  const withPdf = ['true', '1'].includes(parseQuery(c.req.url).get('with_pdf') ?? '');
  return answer(
    state,
    'ok',
    jsonResponse({ credit_check: creditCheckDetail(record, state.clock.nowMs(), withPdf) }),
  );
}

function badRequest(errors: readonly FieldError[]): Response {
  return jsonResponse({ errors }, 400);
}

function answer(state: EmulatorState, outcome: string, response: Response): Response {
  state.stats.apiRequest(outcome);
  return response;
}
