import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import { AlarmboxError, messageOf } from '../../errors.ts';
import { ExitCode, exitCodeFor } from '../../exit-codes.ts';
import { AlarmboxSecondaryFailure } from '../../secondary-failure.ts';
import { translateCommanderError } from './commander-ja.ts';
import { loadDotEnv } from './dotenv.ts';

type Register = (program: Command) => void;

// Each command's module (and what it pulls in: the database drivers, the emulator, the console) loads only when
// that command runs, so `alarmbox --version` or `status` do not pay for all of them. Listed in help order.
const COMMANDS: Readonly<Record<string, () => Promise<Register>>> = {
  migrate: async () => (await import('./commands/migrate.ts')).registerMigrateCommand,
  'authorize-url': async () => (await import('./commands/authorize-url.ts')).registerAuthorizeUrlCommand,
  'save-token': async () => (await import('./commands/save-token.ts')).registerSaveTokenCommand,
  'refresh-token': async () => (await import('./commands/refresh-token.ts')).registerRefreshTokenCommand,
  status: async () => (await import('./commands/status.ts')).registerStatusCommand,
  'access-token': async () => (await import('./commands/access-token.ts')).registerAccessTokenCommand,
  'credit-check': async () => (await import('./commands/credit-check.ts')).registerCreditCheckCommand,
  'expire-token': async () => (await import('./commands/expire-token.ts')).registerExpireTokenCommand,
  revoke: async () => (await import('./commands/revoke.ts')).registerRevokeCommand,
  worker: async () => (await import('./commands/worker.ts')).registerWorkerCommand,
  'deploy-manifest': async () =>
    (await import('./commands/deploy-manifest.ts')).registerDeployManifestCommand,
  doctor: async () => (await import('./commands/doctor.ts')).registerDoctorCommand,
  rekey: async () => (await import('./commands/rekey.ts')).registerRekeyCommand,
  emulator: async () => (await import('./commands/emulator.ts')).registerEmulatorCommand,
  demo: async () => (await import('./commands/demo.ts')).registerDemoCommand,
  console: async () => (await import('./commands/console.ts')).registerConsoleCommand,
};

/**
 * The package's version. Read through the package's own name (`exports` has `./package.json`), so it is found
 * wherever this module sits: src/ in a checkout, dist/ or the CLI bundle in an installed package.
 */
export function packageVersion(): string {
  const manifest: unknown = createRequire(import.meta.url)('alarmbox-auth/package.json');
  const version = (manifest as { version?: unknown }).version;
  return typeof version === 'string' ? version : '0.0.0';
}

/**
 * Builds the `alarmbox` program with the commands that `argv` needs: the named command only, none for
 * `--version`, every one for help, no command or an unknown one (so that help and suggestions list them all).
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('alarmbox')
    .description('AlarmBox API の OAuth 2.0 トークンを管理します (保存・暗号化・自動更新・ロック)')
    .version(packageVersion(), '-V, --version', 'バージョンを表示します')
    .helpOption('-h, --help', 'ヘルプを表示します')
    .helpCommand('help [command]', 'コマンドのヘルプを表示します')
    .showHelpAfterError('(使い方は alarmbox --help で確認できます)')
    .configureOutput({ outputError: (text, write) => write(translateCommanderError(text)) })
    .exitOverride();
  const args = argv.slice(2);
  const name = args.find((arg) => !arg.startsWith('-'));
  const load = name === undefined ? undefined : COMMANDS[name];
  if (load !== undefined) {
    (await load())(program);
  } else if (!(name === undefined && args.some((arg) => arg === '-V' || arg === '--version'))) {
    for (const register of await Promise.all(Object.values(COMMANDS).map((loader) => loader())))
      register(program);
  }
  return program;
}

/** Reading `alarmbox status | head -1` closes the pipe early: stop writing quietly instead of crashing. */
function ignoreClosedStdout(): void {
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

/**
 * Commands that run until stopped: each run's failures are in their log, and their exit code says how they
 * stopped (README「終了コード」), so a failure after one run's result does not decide it.
 */
const RUNS_UNTIL_STOPPED = new Set(['worker', 'console', 'emulator']);

/** Runs the CLI and resolves to the process exit code (docs/design.md: 0 ok, 1 unexpected, 2 usage, 3, 4, 5). */
export async function main(argv: readonly string[]): Promise<number> {
  ignoreClosedStdout();
  // Node prints these warnings on stderr; a command whose result stood but whose bookkeeping failed
  // (secondary-failure.ts) must still not look like a clean success to a scheduler.
  const secondary: AlarmboxSecondaryFailure[] = [];
  const onWarning = (warning: Error) => {
    if (warning instanceof AlarmboxSecondaryFailure) secondary.push(warning);
  };
  process.on('warning', onWarning);
  try {
    const program = await buildProgram(argv);
    loadDotEnv();
    await program.parseAsync([...argv]);
    // A command that ends normally may still report a state through its exit code (`status`: 3 = none).
    const code = typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
    // Warnings are emitted on the next tick: let them arrive before judging.
    await new Promise((resolve) => setImmediate(resolve));
    const [first] = secondary;
    const escalate = code === ExitCode.ok && first !== undefined && !RUNS_UNTIL_STOPPED.has(argv[2] ?? '');
    return escalate ? exitCodeFor(first.reason) : code;
  } catch (error) {
    return reportFailure(error);
  } finally {
    process.off('warning', onWarning);
  }
}

async function reportFailure(error: unknown): Promise<number> {
  if (error instanceof CommanderError) {
    // commander has already printed its explanation (in Japanese, configureOutput) and the help hint.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.ok;
    if (error.code === 'commander.help') return ExitCode.ok;
    process.stderr.write('コマンドの指定が正しくありません。上の説明を確認して指定し直してください。\n');
    return ExitCode.usageOrConfiguration;
  }
  if (error instanceof AlarmboxError) {
    process.stderr.write(`エラー: ${error.message}\n`);
    if (error.reason === 'unexpected') (await import('../../debug-detail.ts')).writeDebugDetail(error);
    return exitCodeFor(error.reason);
  }
  // Unknown errors may carry anything (a driver echoing a connection string, say): print the class only.
  // Loaded only on this path: `--version` and the commands that succeed do not pay for it.
  const { debugHint, writeDebugDetail } = await import('../../debug-detail.ts');
  process.stderr.write(`${messageOf(error)}。${debugHint()}\n`);
  writeDebugDetail(error);
  return ExitCode.unexpected;
}
