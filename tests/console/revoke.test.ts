// The console's 連携を解除 over HTTP (a real server with its embedded emulator): a confirmation page with a
// required checkbox, a CSRF-checked POST, then a notice. A failed revocation keeps the pair and offers the
// local-only choice; no page ever carries a token.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlarmboxAPIError } from '../../src/alarmbox/errors.ts';
import { CSRF_TOKEN_MESSAGE } from '../../src/apps/console/csrf.ts';
import type { RunningConsole } from '../../src/apps/console/index.ts';
import type { RunningEmulator } from '../../src/emulator/index.ts';
import { registerToken, type StoredPair, storedPair } from '../support/alarmbox.ts';
import { apiStatus } from '../support/authorize.ts';
import { type ConsoleBrowser, startEmbeddedConsole, textOf } from '../support/console-browser.ts';
import { expectNoSecrets } from '../support/registered.ts';
import { expectReason } from '../support/rejections.ts';

let running: RunningConsole;
let emulator: RunningEmulator;
let browser: ConsoleBrowser;
const secrets = new Set<string>();

beforeAll(async () => {
  ({ running, emulator, browser } = await startEmbeddedConsole(secrets));
});

afterAll(async () => {
  await running?.close();
});

let pair: StoredPair;
beforeEach(async () => {
  emulator.setFaults({});
  await registerToken(running.alarmbox, emulator);
  pair = await storedPair(running.alarmbox);
  secrets.add(pair.access);
  secrets.add(pair.refresh);
});

/** Posts the confirmation form from the page, as the browser would, and returns the page it leads to. */
async function submit(
  fields: Record<string, string>,
): Promise<{ location: string; text: string; body: string }> {
  await browser.get('/revoke');
  const res = await browser.post('/revoke', fields);
  expect(res.status).toBe(303);
  const location = res.headers.get('location') ?? '';
  const { body } = await browser.get(location);
  return { location, text: textOf(body), body };
}

describe('console: 連携を解除', () => {
  it('the dashboard links to a confirmation page with a required checkbox', async () => {
    const dashboard = await browser.get('/');
    expect(dashboard.body).toContain('href="/revoke"');
    const page = await browser.get('/revoke');
    expect(page.status).toBe(200);
    expect(page.body).toMatch(/<input type="checkbox" name="confirm" value="yes" required>/);
    expect(textOf(page.body)).toContain('AlarmBox での失効に失敗したときは何も削除せず');
    expect(emulator.stats().revokeRequests, 'revocations by showing the page').toEqual({});
  });

  it('without the checkbox nothing is revoked: the page says why', async () => {
    const { location, text } = await submit({});
    expect(location).toMatch(/^\/revoke\?notice=/);
    expect(text).toContain('確認のチェックが入っていません');
    expect(emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({});
    expect(await storedPair(running.alarmbox)).toEqual(pair);
  });

  it('without the CSRF token: 403, nothing revoked', async () => {
    await browser.get('/revoke');
    const res = await browser.post('/revoke', { confirm: 'yes' }, { token: null });
    expect(res.status).toBe(403);
    expect(textOf(res.body)).toContain(CSRF_TOKEN_MESSAGE);
    expect(emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual({});
    expect(await storedPair(running.alarmbox)).toEqual(pair);
  });

  it('AlarmBox answers 503: the pair is kept and the page offers the local-only choice', async () => {
    emulator.setFaults({ revoke: { status: 503 } });
    const { location, text } = await submit({ confirm: 'yes' });
    expect(location).toMatch(/^\/revoke\?notice=/);
    expect(text).toContain('連携を解除できませんでした');
    expect(text).toContain('保存済みのトークンは削除せずに残しています');
    expect(text).toContain('「AlarmBox に届かなくても削除する」にチェックを入れて');
    expect(text).toContain('一時的な失敗 (temporary、CLI の終了コード 5)');
    expect(await storedPair(running.alarmbox)).toEqual(pair);
  });

  it('confirmed: revoked at AlarmBox, row 1 deleted, the dashboard says 未登録 and shows the revocation', async () => {
    const { location, text, body } = await submit({ confirm: 'yes' });
    expect(location).toMatch(/^\/\?notice=/);
    expect(text).toContain('連携を解除しました');
    expect(text).toContain('未登録');
    expect(text).toMatch(/更新履歴 \(新しい順\) 連携を解除 \(revoked\) 手動/);
    expect(body, 'the 連携を解除 link without a pair').not.toContain('href="/revoke"');
    expect((await running.alarmbox.store.getInstance()).isRegistered).toBe(false);
    expect(await apiStatus(emulator, pair.access), 'the old access token at the API').toBe(401);
    await expectReason(
      running.alarmbox.client.refreshToken(pair.refresh),
      'reauthorization_required',
      AlarmboxAPIError,
    );
  });

  it('local only: row 1 deleted without AlarmBox, and the notice says the token may still be valid there', async () => {
    emulator.setFaults({ revoke: { drop: 'before' } });
    const before = emulator.stats().revokeRequests;
    const { text } = await submit({ confirm: 'yes', local_only: 'yes' });
    expect(text).toContain('連携を解除しました (ローカルのみ)');
    expect(text).toContain('AlarmBox 側ではトークンがまだ有効な可能性があります');
    expect(emulator.stats().revokeRequests, 'revocations at AlarmBox').toEqual(before);
    expect((await running.alarmbox.store.getInstance()).isRegistered).toBe(false);
    expect(await apiStatus(emulator, pair.access), 'the token AlarmBox still honours').toBe(200);
  });

  it('no response carried a token or the client secret', () => {
    expect(browser.seen.length).toBeGreaterThan(10);
    expectNoSecrets(browser.seen, secrets);
  });
});
