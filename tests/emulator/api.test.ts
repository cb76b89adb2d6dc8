// The protected API (credit checks), /oauth/token/info and /oauth/revoke.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import {
  CLIENT_ID,
  CLIENT_SECRET,
  createCreditCheck,
  form,
  issuePair,
  refresh,
  tokenInfo,
} from './helpers.ts';

let emu: RunningEmulator;
let url: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, quiet: true, accessTtl: 3600 });
  url = emu.url;
});
afterAll(() => emu.close());
beforeEach(() => emu.reset());

const challenge = (description: string) =>
  `Bearer realm="Doorkeeper", error="invalid_token", error_description="${description}"`;

async function expect401(res: Response, description: string): Promise<void> {
  expect(res.status).toBe(401);
  expect(await res.text()).toBe('');
  expect(res.headers.get('www-authenticate')).toBe(challenge(description));
}

function getCreditCheck(id: string | number, token: string, query = ''): Promise<Response> {
  return fetch(`${url}/ps/v1/credit_checks/${id}${query}`, { headers: { Authorization: `Bearer ${token}` } });
}

describe('POST /ps/v1/credit_checks', () => {
  it('answers the fixed results of the test corporation numbers', async () => {
    const { access_token } = await issuePair(url);
    const expected = [
      ['0000000000001', 'ok'],
      ['0000000000002', 'hold'],
      ['0000000000003', 'ng'],
      ['1234567890123', null],
    ] as const;
    for (const [number, result] of expected) {
      const res = await createCreditCheck(url, access_token, {
        corporation_number: number,
        deal: 1,
        purchase_reasons: [1, 9],
        purchase_reason_comment: '与信確認',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const body = (await res.json()) as { credit_check: Record<string, unknown> };
      expect(Object.keys(body)).toEqual(['credit_check']);
      expect(Object.keys(body.credit_check)).toEqual([
        'credit_check_id',
        'purchase_date',
        'expiration_date',
        'corporation_name',
        'corporation_number',
        'result',
      ]);
      expect(body.credit_check.corporation_number).toBe(number);
      expect(body.credit_check.result).toBe(result);
      expect(body.credit_check.purchase_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(body.credit_check.expiration_date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(typeof body.credit_check.credit_check_id).toBe('number');
    }
    expect(emu.stats().apiRequests).toEqual({ ok: 4 });
  });

  it('answers 400 with the failing fields', async () => {
    const { access_token } = await issuePair(url);
    const cases: [unknown, string[]][] = [
      [{}, ['corporation_number']],
      [{ corporation_number: 1 }, ['corporation_number']],
      [{ corporation_number: '123456789012' }, ['corporation_number']],
      [{ corporation_number: '0000000000001', deal: 3 }, ['deal']],
      [{ corporation_number: '0000000000001', purchase_reasons: [5] }, ['purchase_reasons']],
      [{ corporation_number: '0000000000001', purchase_reasons: 1 }, ['purchase_reasons']],
      [{ corporation_number: '0000000000001', purchase_reason_comment: 7 }, ['purchase_reason_comment']],
      [{ corporation_number: 'x', deal: 0 }, ['corporation_number', 'deal']],
      [[1, 2], ['base']],
    ];
    for (const [body, fields] of cases) {
      const res = await createCreditCheck(url, access_token, body);
      expect(res.status).toBe(400);
      const json = (await res.json()) as { errors: { field: string; message: string }[] };
      expect(json.errors.map((e) => e.field)).toEqual(fields);
    }
    const broken = await fetch(`${url}/ps/v1/credit_checks`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${access_token}`, 'Content-Type': 'application/json' },
      body: '{"corporation_number":',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { errors: unknown[] }).errors).toHaveLength(1);
  });

  it('answers 401 with an empty body and the reason in WWW-Authenticate', async () => {
    await expect401(await createCreditCheck(url, undefined, {}), 'The access token is invalid');
    await expect401(await createCreditCheck(url, 'not-a-token', {}), 'The access token is invalid');
    const pair = await issuePair(url);
    emu.setClockOffset(3601);
    await expect401(await createCreditCheck(url, pair.access_token, {}), 'The access token expired');
    emu.setClockOffset(0);
    const revoked = await issuePair(url);
    await fetch(`${url}/oauth/revoke`, {
      method: 'POST',
      body: form({ token: revoked.access_token, client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
    });
    await expect401(await createCreditCheck(url, revoked.access_token, {}), 'The access token was revoked');
    // Revoked wins over expired.
    emu.setClockOffset(3601);
    await expect401(await createCreditCheck(url, revoked.access_token, {}), 'The access token was revoked');
    expect(emu.stats().apiRequests).toEqual({ invalid_token: 5 });
  });

  it('answers 403 with an empty body to a token without the scope', async () => {
    const { access_token } = await issuePair(url, 'read');
    const res = await createCreditCheck(url, access_token, { corporation_number: '0000000000001' });
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('');
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(emu.stats().apiRequests).toEqual({ insufficient_scope: 1 });
  });

  it('accepts the token as access_token query parameter (RFC 6750 §2.3)', async () => {
    const { access_token } = await issuePair(url);
    const res = await fetch(`${url}/ps/v1/credit_checks?access_token=${access_token}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ corporation_number: '0000000000002' }),
    });
    expect(res.status).toBe(200);
  });
});

describe('GET /ps/v1/credit_checks/{id}', () => {
  it('returns the detail, and a valid PDF with with_pdf=true', async () => {
    const { access_token } = await issuePair(url);
    const created = (await (
      await createCreditCheck(url, access_token, { corporation_number: '0000000000003' })
    ).json()) as { credit_check: { credit_check_id: number } };
    const id = created.credit_check.credit_check_id;
    const plain = (await (await getCreditCheck(id, access_token)).json()) as {
      credit_check: Record<string, unknown>;
    };
    expect(Object.keys(plain.credit_check)).toEqual([
      'credit_check_id',
      'purchase_date',
      'expiration_date',
      'corporation_name',
      'corporation_number',
      'result',
      'expired',
      'infos',
    ]);
    expect(plain.credit_check.result).toBe('ng');
    expect(plain.credit_check.expired).toBe(false);
    const infos = plain.credit_check.infos as { received_date: string; tags: Record<string, string>[] }[];
    expect(infos.length).toBeGreaterThan(0);
    expect(Object.keys(infos[0]!)).toEqual(['received_date', 'tags']);
    expect(Object.keys(infos[0]!.tags[0]!)).toEqual(['name', 'description', 'source']);

    const withPdf = (await (await getCreditCheck(id, access_token, '?with_pdf=true')).json()) as {
      credit_check: { pdf_file_data: string };
    };
    const pdf = Buffer.from(withPdf.credit_check.pdf_file_data, 'base64');
    const text = pdf.toString('latin1');
    expect(text.startsWith('%PDF-1.4\n')).toBe(true);
    expect(text.endsWith('%%EOF\n')).toBe(true);
    expect(text).toContain('corporation_number: 0000000000003');
    // The cross-reference table points at each object's first byte, and startxref at the table.
    const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(text)?.[1]);
    expect(text.slice(startxref, startxref + 5)).toBe('xref\n');
    const entries = [...text.slice(startxref).matchAll(/^(\d{10}) 00000 n \n/gm)].map((m) => Number(m[1]));
    expect(entries).toHaveLength(5);
    entries.forEach((offset, i) => {
      expect(text.slice(offset, offset + `${i + 1} 0 obj`.length)).toBe(`${i + 1} 0 obj`);
    });
    const stream = /<< \/Length (\d+) >>\nstream\n/.exec(text);
    const start = (stream?.index ?? 0) + (stream?.[0].length ?? 0);
    expect(text.slice(start + Number(stream?.[1]), start + Number(stream?.[1]) + 10)).toBe('\nendstream');
  });

  it('marks a check expired a year later (emulator clock)', async () => {
    const eternal = await startEmulator({ port: 0, quiet: true, accessTtl: null });
    try {
      const { access_token } = await issuePair(eternal.url);
      const created = (await (
        await createCreditCheck(eternal.url, access_token, { corporation_number: '0000000000001' })
      ).json()) as { credit_check: { credit_check_id: number; expiration_date: string } };
      const show = async () =>
        (
          (await (
            await fetch(`${eternal.url}/ps/v1/credit_checks/${created.credit_check.credit_check_id}`, {
              headers: { Authorization: `Bearer ${access_token}` },
            })
          ).json()) as { credit_check: { expired: boolean; infos: unknown[] } }
        ).credit_check;
      expect(await show()).toMatchObject({ expired: false, infos: [] });
      eternal.setClockOffset(367 * 86400);
      expect((await show()).expired).toBe(true);
    } finally {
      await eternal.close();
    }
  });

  it('answers 404 for an unknown id and 403 without the read scope', async () => {
    const { access_token } = await issuePair(url);
    expect((await getCreditCheck(999, access_token)).status).toBe(404);
    expect((await getCreditCheck('abc', access_token)).status).toBe(404);
    const limited = await issuePair(url, 'credit_check:create');
    const created = (await (
      await createCreditCheck(url, limited.access_token, { corporation_number: '0000000000001' })
    ).json()) as { credit_check: { credit_check_id: number } };
    const res = await getCreditCheck(created.credit_check.credit_check_id, limited.access_token);
    expect(res.status).toBe(403);
    expect(await res.text()).toBe('');
  });
});

describe('GET /oauth/token/info', () => {
  it('describes a valid token', async () => {
    const pair = await issuePair(url, 'read credit_check:create');
    const res = await tokenInfo(url, pair.access_token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      'resource_owner_id',
      'scope',
      'expires_in',
      'application',
      'created_at',
    ]);
    expect(body).toMatchObject({
      resource_owner_id: 1,
      scope: ['read', 'credit_check:create'],
      application: { uid: CLIENT_ID },
      created_at: pair.created_at,
    });
    expect(body.expires_in).toBeGreaterThan(3590);
    expect(body.expires_in).toBeLessThanOrEqual(3600);
    emu.setClockOffset(1800);
    const later = (await (await tokenInfo(url, pair.access_token)).json()) as { expires_in: number };
    expect(later.expires_in).toBeGreaterThan(1790);
    expect(later.expires_in).toBeLessThanOrEqual(1800);
  });

  it('answers 401 invalid_token JSON for a bad token', async () => {
    const expectedBody = {
      error: 'invalid_token',
      error_description: 'The access token is invalid',
      state: 'unauthorized',
    };
    const pair = await issuePair(url);
    emu.setClockOffset(3601);
    for (const res of [
      await tokenInfo(url, 'nope'),
      await fetch(`${url}/oauth/token/info`),
      await tokenInfo(url, pair.access_token),
    ]) {
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual(expectedBody);
      expect(res.headers.get('www-authenticate')).toBe(challenge('The access token is invalid'));
    }
  });
});

describe('POST /oauth/revoke', () => {
  const revoke = (params: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${url}/oauth/revoke`, { method: 'POST', body: form(params), headers });

  it('kills the whole pair when either token is revoked', async () => {
    const byAccess = await issuePair(url);
    const res = await revoke({
      token: byAccess.access_token,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect((await refresh(url, byAccess.refresh_token)).status).toBe(400);

    const byRefresh = await issuePair(url);
    const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
    expect((await revoke({ token: byRefresh.refresh_token }, { Authorization: basic })).status).toBe(200);
    expect((await tokenInfo(url, byRefresh.access_token)).status).toBe(401);
    expect((await refresh(url, byRefresh.refresh_token)).status).toBe(400);
  });

  it('answers 200 {} for unknown tokens and 403 without client authentication', async () => {
    const unknown = await revoke({ token: 'unknown', client_id: CLIENT_ID, client_secret: CLIENT_SECRET });
    expect(unknown.status).toBe(200);
    expect(await unknown.json()).toEqual({});
    const pair = await issuePair(url);
    const refused: Record<string, string>[] = [
      { token: pair.access_token },
      { token: pair.access_token, client_id: CLIENT_ID },
      { token: pair.access_token, client_id: CLIENT_ID, client_secret: 'wrong' },
    ];
    for (const params of refused) {
      const res = await revoke(params);
      expect(res.status).toBe(403);
      expect(await res.json()).toEqual({
        error: 'unauthorized_client',
        error_description: 'You are not authorized to revoke this token',
      });
    }
    // Nothing was revoked by the refused requests.
    expect((await tokenInfo(url, pair.access_token)).status).toBe(200);
    expect(emu.stats().revokeRequests).toEqual({ ok: 1, unauthorized_client: 3 });
  });
});
