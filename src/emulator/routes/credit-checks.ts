// The protected API: `POST /ps/v1/credit_checks` and `GET /ps/v1/credit_checks/{id}` (docs/design.md「AlarmBox について分かっていること」).
import type { Context, Hono } from 'hono';
import { authorizeApiRequest } from '../api-auth.ts';
import {
  creditCheckDetail,
  creditCheckSummary,
  type FieldError,
  parseCreditCheckInput,
} from '../credit-checks.ts';
import { jsonResponse } from '../doorkeeper-errors.ts';
import { withFaults } from '../fault-injection.ts';
import { parseQuery, RequestInputError, readJsonBody } from '../params.ts';
import type { EmulatorEnv, EmulatorState } from '../state.ts';

export function registerCreditCheckRoutes(app: Hono<EmulatorEnv>, state: EmulatorState): void {
  app.post(
    '/ps/v1/credit_checks',
    withFaults(state, 'api', (c) => create(state, c)),
  );
  app.get(
    '/ps/v1/credit_checks/:id',
    withFaults(state, 'api', (c) => show(state, c)),
  );
}

async function create(state: EmulatorState, c: Context<EmulatorEnv>): Promise<Response> {
  // Authentication comes first (a before_action), the body only afterwards.
  const auth = authorizeApiRequest(state, c, 'credit_check:create');
  if (!auth.ok) return answer(state, auth.outcome, auth.response);
  let body: unknown;
  try {
    body = await readJsonBody(c.req.raw);
  } catch (error) {
    if (!(error instanceof RequestInputError)) throw error;
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
