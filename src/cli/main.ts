import { Command, CommanderError } from 'commander';
import { isReasonedError } from '../failure-reason.ts';
import { registerAccessTokenCommand } from './commands/access-token.ts';
import { registerAuthorizeUrlCommand } from './commands/authorize-url.ts';
import { registerConsoleCommand } from './commands/console.ts';
import { registerCreditCheckCommand } from './commands/credit-check.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerDeployManifestCommand } from './commands/deploy-manifest.ts';
import { registerDoctorCommand } from './commands/doctor.ts';
import { registerEmulatorCommand } from './commands/emulator.ts';
import { registerExpireTokenCommand } from './commands/expire-token.ts';
import { registerMigrateCommand } from './commands/migrate.ts';
import { registerRefreshTokenCommand } from './commands/refresh-token.ts';
import { registerRekeyCommand } from './commands/rekey.ts';
import { registerSaveTokenCommand } from './commands/save-token.ts';
import { registerStatusCommand } from './commands/status.ts';
import { registerWorkerCommand } from './commands/worker.ts';
import { loadDotEnv } from './context.ts';
import { ExitCode, exitCodeFor } from './exit-codes.ts';

/** Builds the `alarmbox` program. Each command lives in its own module under `./commands/`. */
export function buildProgram(): Command {
  const program = new Command('alarmbox')
    .description('AlarmBox API の OAuth 2.0 トークンを管理します (保存・暗号化・自動更新・ロック)')
    .helpOption('-h, --help', 'ヘルプを表示します')
    .helpCommand('help [command]', 'コマンドのヘルプを表示します')
    .showHelpAfterError('(使い方は alarmbox --help で確認できます)')
    .exitOverride();
  registerMigrateCommand(program);
  registerAuthorizeUrlCommand(program);
  registerSaveTokenCommand(program);
  registerRefreshTokenCommand(program);
  registerStatusCommand(program);
  registerAccessTokenCommand(program);
  registerCreditCheckCommand(program);
  registerExpireTokenCommand(program);
  registerWorkerCommand(program);
  registerDeployManifestCommand(program);
  registerDoctorCommand(program);
  registerRekeyCommand(program);
  registerEmulatorCommand(program);
  registerDemoCommand(program);
  registerConsoleCommand(program);
  return program;
}

/** Runs the CLI and resolves to the process exit code (DESIGN.md: 0 ok, 1 unexpected, 2 usage, 3, 4, 5). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    loadDotEnv();
    await program.parseAsync([...argv]);
    // A command that ends normally may still report a state through its exit code (`status`: 3 = none).
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    return reportFailure(error);
  }
}

function reportFailure(error: unknown): number {
  if (error instanceof CommanderError) {
    // commander has already printed its own (English) explanation and the help hint.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.ok;
    if (error.code === 'commander.help') return ExitCode.ok;
    process.stderr.write('コマンドの指定が正しくありません。上の説明を確認して指定し直してください。\n');
    return ExitCode.usageOrConfiguration;
  }
  if (isReasonedError(error)) {
    process.stderr.write(`エラー: ${error.message}\n`);
    return exitCodeFor(error.reason);
  }
  // Unknown errors may carry anything (a driver echoing a connection string, say): print the class only.
  const name = error instanceof Error ? error.name : typeof error;
  process.stderr.write(
    `予期しないエラーが発生しました (${name})。ALARMBOX_DEBUG=1 を付けて再実行すると詳細を表示します。\n`,
  );
  if (process.env.ALARMBOX_DEBUG === '1' && error instanceof Error)
    process.stderr.write(`${error.stack ?? ''}\n`);
  return ExitCode.unexpected;
}
