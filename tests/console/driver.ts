// The person at the console, in a real browser: the clicks of the e2e test and of the README screenshot.
import type { BrowserContext, Page } from 'playwright-core';

/** AlarmBox と連携 → the emulator's consent page → 承認 → back at the console through /callback. */
export async function connectByLoopback(page: Page, consoleUrl: string): Promise<void> {
  await page.goto(`${consoleUrl}/connect`);
  await page.locator('#connect-loopback').getByRole('button', { name: 'AlarmBox と連携' }).click();
  await page.getByRole('button', { name: '承認' }).click();
  await page.waitForURL(new RegExp(`^${escapeRegExp(consoleUrl)}/\\?notice=`));
}

/** The OOB way: the authorize page opens in a new tab, which shows the code to copy into the console. */
export async function connectByPastingCode(
  context: BrowserContext,
  page: Page,
  consoleUrl: string,
  onTab: (tab: Page, step: 'consent' | 'code') => Promise<void> = async () => {},
): Promise<string> {
  await page.goto(`${consoleUrl}/connect`);
  const [tab] = await Promise.all([context.waitForEvent('page'), page.locator('#authorize-link').click()]);
  await tab.waitForLoadState();
  await onTab(tab, 'consent');
  await tab.getByRole('button', { name: '承認' }).click();
  const code = (await tab.locator('#authorization_code').textContent()) ?? '';
  await onTab(tab, 'code');
  await tab.close();
  await page.locator('#code').fill(code);
  await page.getByRole('button', { name: '保存' }).click();
  await page.waitForURL(/\?notice=/);
  return code;
}

export async function refreshNow(page: Page): Promise<void> {
  await submitAndWait(page, () => page.getByRole('button', { name: '今すぐ更新' }).click());
}

export async function tryApi(page: Page, corporationNumber: string): Promise<void> {
  await page.locator('select[name="corporation_number"]').selectOption(corporationNumber);
  await submitAndWait(page, () => page.getByRole('button', { name: 'API を試す' }).click());
}

/** 連携を解除 from the dashboard: the confirmation page, its required checkbox, then the button. */
export async function revokeFromDashboard(page: Page): Promise<void> {
  await page.getByRole('link', { name: '連携を解除' }).click();
  await page.waitForURL(/\/revoke$/);
  await page.getByRole('checkbox', { name: /上の内容を確認しました/ }).check();
  await submitAndWait(page, () => page.getByRole('button', { name: '連携を解除' }).click());
}

/** Every action ends on a page with a fresh `?notice=`; the page we start from may already have one. */
async function submitAndWait(page: Page, submit: () => Promise<void>): Promise<void> {
  const before = page.url();
  await submit();
  await page.waitForURL((url) => url.href !== before && url.searchParams.has('notice'));
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
