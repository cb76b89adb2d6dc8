// `npm run screenshot:console`: regenerates docs/console.png, the README's picture of the console after
// connecting (countdown and refresh timeline), by clicking through the real flow in headless Chromium
// against the embedded emulator. Needs Debian's chromium (and a Japanese font, e.g. fonts-ipafont-gothic).
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startConsole } from '../../src/apps/console/index.ts';
import { CHROMIUM_PATH, chromiumInstalled, launchChromium } from './chromium.ts';
import { connectByLoopback, refreshNow } from './driver.ts';

// The README is read in Japan: show the times as a person there would see them.
process.env.TZ = 'Asia/Tokyo';

const OUTPUT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'console.png');
const MAX_BYTES = 200 * 1024;

if (!chromiumInstalled()) {
  process.stderr.write(
    `${CHROMIUM_PATH} がありません。apt-get install -y chromium でインストールしてください。\n`,
  );
  process.exit(1);
}
if (!hasJapaneseFont()) {
  process.stderr.write(
    '警告: 日本語フォントが見つかりません (fc-list :lang=ja)。文字化けした画像になります: apt-get install -y fonts-ipafont-gothic\n',
  );
}

const running = await startConsole({ port: 0, emulator: { autoApprove: false } });
const browser = await launchChromium();
try {
  const context = await browser.newContext({
    viewport: { width: 1000, height: 800 },
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
  });
  const page = await context.newPage();
  await connectByLoopback(page, running.url);
  await refreshNow(page);
  await refreshNow(page);
  // The plain status page, without the last action's notice.
  await page.goto(`${running.url}/`);
  mkdirSync(dirname(OUTPUT), { recursive: true });
  await page.screenshot({ path: OUTPUT, fullPage: true });
  const bytes = statSync(OUTPUT).size;
  process.stdout.write(`${OUTPUT} (${Math.round(bytes / 1024)} KB)\n`);
  if (bytes > MAX_BYTES) {
    process.stderr.write(
      `${Math.round(MAX_BYTES / 1024)} KB を超えています。ビューポートを小さくしてください。\n`,
    );
    process.exitCode = 1;
  }
} finally {
  await browser.close();
  await running.close();
}

function hasJapaneseFont(): boolean {
  try {
    return execFileSync('fc-list', [':lang=ja'], { encoding: 'utf8' }).trim() !== '';
  } catch {
    return false;
  }
}
