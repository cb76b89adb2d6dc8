import { spawn } from 'node:child_process';
import type { Command } from 'commander';
import { CommandError } from '../command-error.ts';
import { say } from '../output.ts';
import { parsePort } from '../port.ts';
import { finishTokenExchanges, waitForStopSignal } from '../stop-signal.ts';

const DEFAULT_PORT = 8976;

/** `alarmbox console`: the local web console, on 127.0.0.1 only, until Ctrl+C or SIGTERM. */
export function registerConsoleCommand(program: Command): void {
  program
    .command('console')
    .description(
      'ブラウザで使うローカルのコンソールを起動します (連携・トークンの状態・更新履歴・API の試し呼び出し)',
    )
    .option('--port <port>', `待ち受けるポート番号 (既定: ${DEFAULT_PORT}、0 で空いているポート)`)
    .option(
      '--emulator',
      '設定なしで試せるよう、内蔵エミュレータ・一時データベース・一時キーを使います (環境変数の設定は使いません)',
    )
    .option('--open', '起動後にブラウザで開きます')
    .addHelpText(
      'after',
      [
        '',
        '例:',
        '  alarmbox console --emulator --open   # 設定なしで連携から API 呼び出しまで試す',
        '  alarmbox console                     # 環境変数 (.env) の設定で、本物の AlarmBox と連携する',
        '',
        `127.0.0.1 でのみ待ち受けます。自動で戻る連携には http://127.0.0.1:${DEFAULT_PORT}/callback を AlarmBox に登録し、`,
        `ALARMBOX_REDIRECT_URI=http://127.0.0.1:${DEFAULT_PORT}/callback を設定してください。`,
      ].join('\n'),
    )
    .action(async (raw: { port?: string; emulator?: boolean; open?: boolean }) => {
      const port = raw.port === undefined ? DEFAULT_PORT : parsePort(raw.port, DEFAULT_PORT);
      // Listening for stop signals before anything is created: a signal during start-up, or one sent the moment
      // the startup lines appear, still removes the sandbox's temporary files.
      const stopSignal = waitForStopSignal();
      // Loaded here, not at start-up: the other commands never pay for the server's modules.
      const { startConsole } = await import('../../console/index.ts');
      const running = await startConsole({
        port,
        emulator: raw.emulator === true,
        log: (line) => say(`[console] ${line}`),
      }).catch((error: unknown) => {
        throw listenError(error, port);
      });
      const { config } = running.alarmbox;
      say(`AlarmBox コンソールを起動しました: ${running.url}/`);
      if (running.emulator !== undefined) {
        say(`内蔵エミュレータ: ${running.emulator.url} (同意画面で「承認」を押すと認可コードが発行されます)`);
        say(`一時データベースと一時キー: ${running.sandboxDir ?? ''} (停止すると削除します)`);
      } else {
        say(`環境: ${config.env} / AlarmBox: ${config.baseUrl}`);
      }
      say('Ctrl+C で停止します。');
      if (raw.open === true) openBrowser(`${running.url}/`);
      const signal = await stopSignal;
      say(`${signal} を受け取りました。コンソールを停止します…`);
      // 今すぐ更新 may be under way: its pair is saved before the database (and a sandbox) goes away.
      await finishTokenExchanges(running.alarmbox.config.httpTimeoutMs + 10_000);
      await running.close();
      say('停止しました。');
    });
}

function listenError(error: unknown, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new CommandError(
      `127.0.0.1:${port} は既に使用されています。--port で別のポートを指定してください (例: --port 8977、0 で空いているポート)。`,
      'configuration',
    );
  }
  if (code === 'EACCES') {
    return new CommandError(
      `127.0.0.1:${port} で待ち受けできません (${code})。1024 以上のポートを --port で指定してください。`,
      'configuration',
    );
  }
  return error;
}

/** Best effort: the URL is printed anyway, so a machine without a browser opener loses nothing. */
function openBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => say(`ブラウザを開けませんでした。${url} を開いてください。`));
    child.unref();
  } catch {
    say(`ブラウザを開けませんでした。${url} を開いてください。`);
  }
}
