// The typed API against the emulator over real HTTP: credit checks, the endpoint table, request(), and the
// errors of 400 / 403 / 404.
import { describe, expect, it } from 'vitest';
import { decodeCreditCheckPdf } from '../../src/api/credit-checks.ts';
import {
  AlarmboxApiBadRequestError,
  AlarmboxApiForbiddenError,
  AlarmboxApiInputError,
  AlarmboxApiNotFoundError,
  AlarmboxApiResponseError,
} from '../../src/api/errors.ts';
import { createAlarmbox, createAlarmboxApi } from '../../src/create.ts';
import { type ApiFixture, apiArrivals, useApiFixture } from '../support/api-fixture.ts';
import { expectReasonOf } from '../support/rejections.ts';

let f: ApiFixture;

useApiFixture((fixture) => {
  f = fixture;
});

describe('creditChecks', () => {
  it.each([
    ['0000000000001', 'ok'],
    ['0000000000002', 'hold'],
    ['0000000000003', 'ng'],
  ] as const)('create and get %s → %s', async (number, result) => {
    const api = f.api();
    const created = await api.creditChecks.create({
      corporation_number: number,
      deal: 1,
      purchase_reasons: [1, 9],
      purchase_reason_comment: 'テスト',
    });
    expect(created).toMatchObject({ corporation_number: number, result });
    expect(created.purchase_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const got = await api.creditChecks.get(created.credit_check_id);
    expect(got).toMatchObject({ credit_check_id: created.credit_check_id, result, expired: false });
    expect(got.pdf_file_data).toBeUndefined();
    expect(got.infos.length).toBe(result === 'ok' ? 0 : 1);
    expect(f.emulator.stats().apiRequests, 'API requests at AlarmBox').toEqual({ ok: 2 });
  });

  it('get with withPdf returns a base64 PDF', async () => {
    const api = f.api();
    const { credit_check_id } = await api.creditChecks.create({ corporation_number: '0000000000001' });
    const detail = await api.creditChecks.get(credit_check_id, { withPdf: true });
    const pdf = decodeCreditCheckPdf(detail);
    expect(pdf?.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf?.toString('latin1')).toContain('corporation_number: 0000000000001');
  });

  it('accepts 201 as well as 200 for a purchase (an older AlarmBox document says 201)', async () => {
    const api = f.api();
    f.emulator.setFaults({ api: { response: { status: 201 }, times: 2 } });
    // The emulator really answers 201 under this fault…
    const token = await f.registered.alarmbox.tokens.getValidAccessToken();
    const raw = await fetch(`${f.emulator.url}/ps/v1/credit_checks`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ corporation_number: '0000000000001' }),
    });
    expect(raw.status).toBe(201);
    await raw.body?.cancel();
    // …and the client takes it as the purchase it is.
    const created = await api.creditChecks.create({ corporation_number: '0000000000002' });
    expect(created.result).toBe('hold');
    expect(f.emulator.stats().faultsInjected.api, 'API faults injected').toBe(2);
    expect((await api.creditChecks.create({ corporation_number: '0000000000001' })).result).toBe('ok');
  });

  it('alarmbox.api is the same client, created lazily with the token cache on', async () => {
    const api = f.registered.alarmbox.api;
    expect(f.registered.alarmbox.api).toBe(api);
    expect(api.tokens.cached).toBe(true);
    const created = await api.creditChecks.create({ corporation_number: '0000000000001' });
    expect(created.result).toBe('ok');
  });

  it("createAlarmboxApi takes an app's createAlarmbox() (docs/library.md), and nothing else", async () => {
    const app = createAlarmbox({
      env: 'dev',
      databaseUrl: f.database.url,
      encryptionKeys: f.keys,
      baseUrl: f.emulator.url,
      clientId: f.emulator.options.clientId,
      clientSecret: f.emulator.options.clientSecret,
    });
    try {
      const api = createAlarmboxApi({ alarmbox: app, tokenCache: false });
      expect(api.tokens.cached).toBe(false);
      expect((await api.creditChecks.create({ corporation_number: '0000000000001' })).result).toBe('ok');
      // The app's object carries no internals (its config holds the database URL).
      expect(Object.keys(app).sort()).toEqual([
        'api',
        'client',
        'close',
        'exchangeCode',
        'health',
        'migrate',
        'onTokenEvent',
        'tokens',
      ]);
      const lookalike = { ...app };
      expect(() => createAlarmboxApi({ alarmbox: lookalike })).toThrow(/createAlarmbox\(\) の戻り値/);
    } finally {
      await app.close();
    }
  });

  it('refuses bad arguments before sending anything', async () => {
    const api = f.api();
    for (const params of [
      { corporation_number: '123' },
      { corporation_number: '０００００００００００１' },
      { corporation_number: '0000000000001', deal: 3 },
      { corporation_number: '0000000000001', purchase_reasons: [5] },
      { corporation_number: '0000000000001', purchase_reason_comment: 'x'.repeat(1001) },
    ]) {
      const error = await f.failure(api.creditChecks.create(params as never));
      expectReasonOf(error, 'usage', AlarmboxApiInputError);
      expect(error.message).toContain('送信していません');
    }
    await f.failure(api.creditChecks.get('../oauth/token'));
    expect(apiArrivals(f.emulator), 'API requests that reached AlarmBox').toBe(0);
    expect(f.emulator.stats().faultsInjected.api, 'API faults injected').toBe(0);
  });
});

describe('errors', () => {
  it('403 names the missing scope and how to re-authorize with it', async () => {
    await f.fresh('read');
    const api = f.api();
    const error = await f.failure(api.creditChecks.create({ corporation_number: '0000000000001' }));
    expect(error).toBeInstanceOf(AlarmboxApiForbiddenError);
    expect(error).toMatchObject({
      statusCode: 403,
      requiredScope: 'credit_check:create',
      grantedScope: 'read',
    });
    expect(error.reason).toBe('reauthorization_required');
    expect(error.message).toContain('credit_check:create');
    expect(error.message).toContain('ALARMBOX_SCOPE="read credit_check:create"');
    expect(error.message).toContain('alarmbox authorize-url');
    expect(error.message).toContain('alarmbox save-token --code');
    expect(f.emulator.stats().apiRequests, 'API requests at AlarmBox').toEqual({ insufficient_scope: 1 });
  });

  it('403 through request() finds the scope in the endpoint table', async () => {
    await f.fresh('read');
    const error = await f.failure(f.api().request('POST', '/ps/v1/credit_checks', {}));
    expect(error).toMatchObject({ requiredScope: 'credit_check:create' });
  });

  it('400: AlarmBox’s body is summarised (field and message), nothing retried', async () => {
    const api = f.api();
    const error = await f.failure(api.request('POST', '/ps/v1/credit_checks', { corporation_number: '12' }));
    expectReasonOf(error, 'usage', AlarmboxApiBadRequestError);
    expect((error as AlarmboxApiBadRequestError).details).toEqual([
      {
        field: 'corporation_number',
        message: 'corporation_number は 13 桁の数字の文字列で指定してください。',
      },
    ]);
    expect(error.message).toMatch(/^APIエラー: 400 \(POST \/ps\/v1\/credit_checks\): .*corporation_number: /);
    expect(apiArrivals(f.emulator), 'API requests that reached AlarmBox').toBe(1);
  });

  it('404 for an unknown id says what to check', async () => {
    const error = await f.failure(f.api().creditChecks.get(424242));
    expect(error).toBeInstanceOf(AlarmboxApiNotFoundError);
    expect(error.message).toContain('404 (GET /ps/v1/credit_checks/424242)');
    expect(error.message).toContain('指定された信用チェックは見つかりません');
  });

  it('a 200 whose body is not a credit check is an error; for a purchase it says the purchase happened', async () => {
    const api = f.api();
    f.emulator.setFaults({ api: { body: 'broken-json', times: 1 } });
    const post = await f.failure(api.creditChecks.create({ corporation_number: '0000000000001' }));
    expect(post).toBeInstanceOf(AlarmboxApiResponseError);
    expect(post).toMatchObject({ reason: 'unexpected', mayHaveBeenProcessed: true, statusCode: 200 });
    expect(post.message).toContain('購入) は完了しています');
    expect(f.emulator.stats().apiRequests, 'API requests at AlarmBox').toEqual({ ok: 1 });

    f.emulator.setFaults({ api: { response: { omit: ['credit_check'] }, times: 1 } });
    const get = await f.failure(api.creditChecks.get(1));
    expect(get).toMatchObject({ reason: 'temporary', mayHaveBeenProcessed: false });
    expect(get.message).toContain('credit_check がありません');
  });
});

describe('endpoint table and request()', () => {
  it('a corrected path is used; a wrong one shows up as 404', async () => {
    const api = f.api({ endpoints: { getCreditCheck: { path: '/ps/v9/credit_checks/{id}' } } });
    expect(api.endpoints.getCreditCheck).toEqual({
      method: 'GET',
      path: '/ps/v9/credit_checks/{id}',
      scope: 'read',
    });
    const error = await f.failure(api.creditChecks.get(1));
    expect(error).toBeInstanceOf(AlarmboxApiNotFoundError);
    expect(error.message).toContain('endpoints で修正');
  });

  it('added rows are called by name, with params, query and a parse check', async () => {
    const api = f.api({
      endpoints: { showCheck: { method: 'GET', path: '/ps/v1/credit_checks/{id}', scope: 'read' } },
    });
    const { credit_check_id } = await api.creditChecks.create({ corporation_number: '0000000000003' });
    const result = await api.call('showCheck', {
      params: { id: credit_check_id },
      query: { with_pdf: false },
      parse: (body) => (body as { credit_check: { result: string } }).credit_check.result,
    });
    expect(result).toBe('ng');
    const raw = await api.request<{ credit_check: { corporation_number: string } }>(
      'GET',
      `/ps/v1/credit_checks/${credit_check_id}`,
    );
    expect(raw.credit_check.corporation_number).toBe('0000000000003');
    await expect(api.call('nope')).rejects.toBeInstanceOf(AlarmboxApiInputError);
  });

  it('never sends the token to another origin', async () => {
    const api = f.api();
    for (const path of ['//evil.example/x', 'http://evil.example/x', 'ps/v1/credit_checks']) {
      await expect(api.request('GET', path)).rejects.toBeInstanceOf(AlarmboxApiInputError);
    }
    expect(() =>
      createAlarmboxApi({
        alarmbox: f.registered.alarmbox,
        endpoints: { getCreditCheck: { path: 'https://evil.example/{id}' } },
      }),
    ).toThrow(/パス/);
    expect(apiArrivals(f.emulator), 'API requests that reached AlarmBox').toBe(0);
  });
});
