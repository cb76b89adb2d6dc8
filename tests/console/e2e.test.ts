// The console end to end in headless Chromium (Debian's package, driven by playwright-core): connect (OOB
// paste and loopback callback, through the emulator's consent page) → status and countdown → 今すぐ更新 →
// timeline → API を試す → 連携を解除, asserting on the page. Screenshots of each step go to test-results/console/.
// With CI set, a missing Chromium fails this file; without, it is skipped with the reason.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningConsole, startConsole } from '../../src/apps/console/index.ts';
import { expectNoSecrets } from '../support/registered.ts';
import { CHROMIUM_PATH, chromiumInstalled, launchChromium } from './chromium.ts';
import {
  connectByLoopback,
  connectByPastingCode,
  refreshNow,
  revokeFromDashboard,
  tryApi,
} from './driver.ts';

const ARTIFACTS = join('test-results', 'console');
const MISSING = `${CHROMIUM_PATH} がありません (Debian: apt-get install -y chromium)`;

if (!chromiumInstalled()) {
  if (process.env.CI) {
    it('headless Chromium is installed for the console e2e test', () => {
      throw new Error(`${MISSING}。CI では e2e テストを省略できません。`);
    });
  } else {
    process.stderr.write(`tests/console/e2e.test.ts: skipped: ${MISSING}\n`);
    it.skip(`console e2e in headless Chromium (skipped: ${MISSING})`, () => {});
  }
} else {
  describe('console in headless Chromium', () => {
    let running: RunningConsole;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    /** The HTML of every console page visited and the body of every console response. */
    const served: string[] = [];
    const pending: Promise<void>[] = [];
    /** Tokens, codes and the client secret seen during the run. */
    const secrets = new Set<string>();
    /** Console messages and page errors (a CSP violation shows up here). */
    const problems: string[] = [];

    const collectTokens = async () => {
      const token = await running.alarmbox.store.getInstance();
      if (!token.isRegistered) return;
      secrets.add(token.getDecryptedAccessToken());
      secrets.add(token.getDecryptedRefreshToken());
    };
    /** Keeps this page's HTML for the no-secret test and saves a screenshot. */
    const step = async (name: string, on: Page = page) => {
      if (on.url().startsWith(running.url)) served.push(await on.content());
      await on.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
    };
    /** An element's text with its whitespace collapsed, as a person reads it. */
    const text = async (selector: string) =>
      ((await page.locator(selector).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();

    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      // The consent page is shown (no auto-approve): the test clicks 承認 as a person would.
      running = await startConsole({ port: 0, emulator: { autoApprove: false } });
      secrets.add(running.emulator?.options.clientSecret ?? '');
      browser = await launchChromium();
      context = await browser.newContext({
        viewport: { width: 1100, height: 900 },
        locale: 'ja-JP',
        timezoneId: 'Asia/Tokyo',
      });
      context.on('request', (request) => {
        // The loopback callback's code travels in the URL; it must not come back in any page.
        const url = new URL(request.url());
        const code = url.pathname === '/callback' ? url.searchParams.get('code') : null;
        if (code !== null) secrets.add(code);
      });
      context.on('response', (response) => {
        if (!response.url().startsWith(running.url)) return;
        pending.push(
          response
            .text()
            .then((body) => {
              served.push(`${JSON.stringify(response.headers())}\n${body}`);
            })
            // Redirects have no body to read.
            .catch(() => {
              served.push(JSON.stringify(response.headers()));
            }),
        );
      });
      context.on('console', (message) => {
        // The emulator's pages are AlarmBox's, not ours (its missing favicon, say).
        if (!message.location().url.startsWith(running.url)) return;
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      context.on('weberror', (error) => problems.push(String(error.error())));
      page = await context.newPage();
    }, 30_000);

    afterAll(async () => {
      await context?.close();
      await browser?.close();
      await running?.close();
    });

    it('connects by pasting the code shown on the OOB page', async () => {
      await page.goto(`${running.url}/`);
      expect(await text('#registration')).toBe('未登録');
      await step('01-not-registered');
      await page.getByRole('link', { name: 'AlarmBox と連携' }).click();
      await page.waitForURL(`${running.url}/connect`);
      await step('02-connect');
      const code = await connectByPastingCode(context, page, running.url, (tab, name) =>
        step(name === 'consent' ? '03-consent' : '04-oob-code', tab),
      );
      secrets.add(code);
      await collectTokens();
      expect(await text('#notice')).toContain('AlarmBox と連携しました');
      expect(await text('#registration')).toBe('登録済み');
      await step('05-connected-by-code');
    });

    it('connects through the loopback callback, back at the console', async () => {
      const before = (await running.alarmbox.store.getInstance()).version;
      await connectByLoopback(page, running.url);
      await collectTokens();
      expect(await text('#notice')).toContain('AlarmBox と連携しました');
      expect(await text('#registration')).toBe('登録済み');
      expect((await running.alarmbox.store.getInstance()).version).toBe(before + 1);
      await step('06-connected-by-callback');
    });

    it('shows the status with a live countdown, the environment and the base URL', async () => {
      await page.goto(`${running.url}/`);
      const first = await text('#countdown');
      expect(first).toMatch(/^残り 23 時間 5\d 分 \d{1,2} 秒$/);
      // The inline script (allowed by the CSP nonce) ticks every second.
      await expect.poll(() => text('#countdown'), { timeout: 10_000, interval: 250 }).not.toBe(first);
      expect(await text('#env')).toBe('local');
      expect(await text('#base-url')).toBe(running.emulator?.url);
      expect(await text('#timeline')).toContain('まだ更新していません');
      await step('07-status');
    });

    it('今すぐ更新 refreshes and the timeline shows it', async () => {
      await refreshNow(page);
      await collectTokens();
      expect(await text('#notice')).toContain('トークンを更新しました');
      expect(await text('#timeline li')).toMatch(/^成功 \(ok\) 手動/);
      expect(await page.locator('#timeline li').count()).toBe(1);
      await step('08-refreshed');
    });

    it('API を試す answers 問題なし / 保留 / 要注意 for the test corporation numbers', async () => {
      for (const [number, label, name] of [
        ['0000000000001', '問題なし', 'ok'],
        ['0000000000002', '保留', 'hold'],
        ['0000000000003', '要注意', 'ng'],
      ] as const) {
        await tryApi(page, number);
        const notice = await text('#notice');
        expect(notice).toContain(`信用チェックの結果: ${label} (${name})`);
        expect(notice).toContain(number);
        await step(`09-api-${name}`);
      }
      await collectTokens();
    });

    it('連携を解除 asks for the checkbox first, then revokes: 未登録, and the timeline shows it', async () => {
      await collectTokens();
      await page.goto(`${running.url}/`);
      await page.getByRole('link', { name: '連携を解除' }).click();
      await page.waitForURL(/\/revoke$/);
      await step('10-revoke-confirm');
      // The checkbox is required: the browser does not send the form without it.
      await page.getByRole('button', { name: '連携を解除' }).click();
      expect(page.url()).toBe(`${running.url}/revoke`);
      expect(running.emulator?.stats().revokeRequests, 'revocations without the checkbox').toEqual({});
      await page.goto(`${running.url}/`);
      await revokeFromDashboard(page);
      expect(await text('#notice')).toContain('連携を解除しました');
      expect(await text('#registration')).toBe('未登録');
      expect(await text('#timeline li')).toMatch(/^連携を解除 \(revoked\) 手動/);
      expect(running.emulator?.stats().revokeRequests, 'revocations at AlarmBox').toEqual({ ok: 2 });
      await step('11-revoked');
    });

    it('no console page or response contains a token, a code or the client secret', async () => {
      await Promise.all(pending);
      await collectTokens();
      // 2 codes, the client secret and at least three pairs (two connections and a refresh).
      expect(secrets.size).toBeGreaterThanOrEqual(9);
      expect(served.length).toBeGreaterThan(15);
      expectNoSecrets(served, secrets);
      expect(problems).toEqual([]);
    });
  });
}
