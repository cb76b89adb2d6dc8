// How the CLI stops. Long-running commands (emulator, worker, console) stop on Ctrl-C in a terminal, on SIGTERM
// from Kubernetes, Cloud Run or systemd, and on SIGHUP when the terminal closes. No signal ends a process while
// a token request is under way (sent, its answer not yet saved or known lost, its lease not yet released):
// AlarmBox may already have rotated the pair, and exiting then would cost a re-authorization. Such a request is
// bounded by ALARMBOX_HTTP_TIMEOUT_MS, so the wait is too.
import { REAUTHORIZE_STEPS } from '../../alarmbox/errors.ts';
import { processTokenExchanges } from '../../alarmbox/token-exchanges.ts';
import { note } from './output.ts';

export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** The shell's convention: 128 + the signal number. */
const SIGNAL_EXIT_CODES: Readonly<Record<StopSignal, number>> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
};

const WAITING =
  'トークンの更新中に停止の指示を受け取りました。AlarmBox に送信済みの要求の結果を保存してから終了します (最長で ALARMBOX_HTTP_TIMEOUT_MS の時間)。';
const RISK =
  'まだトークンの更新中です。今プロセスを強制終了 (kill -9) すると、AlarmBox が発行した新しいトークンが保存されず、' +
  `再認可が必要になることがあります (${REAUTHORIZE_STEPS})。保存が終わりしだい終了します。`;

/**
 * Handles SIGINT, SIGTERM and SIGHUP from now on. The first one closes the token-request gate (no new request
 * starts) and calls `onStop`. A later one, while a token request is under way, prints what stopping now would
 * risk and is otherwise ignored; with none under way it ends the process at once (a second Ctrl-C still
 * works when nothing is at stake). Returns the function that removes the handlers.
 */
export function holdStopSignals(onStop: (signal: StopSignal) => void): () => void {
  let stopped = false;
  const handler = (signal: NodeJS.Signals) => {
    const s = signal as StopSignal;
    if (!stopped) {
      stopped = true;
      processTokenExchanges.close();
      onStop(s);
      return;
    }
    if (processTokenExchanges.active > 0) note(RISK);
    else process.exit(SIGNAL_EXIT_CODES[s]);
  };
  for (const s of STOP_SIGNALS) process.on(s, handler);
  return () => {
    for (const s of STOP_SIGNALS) process.off(s, handler);
  };
}

/** Resolves with the first stop signal; later ones behave as {@link holdStopSignals} says. */
export function waitForStopSignal(): Promise<StopSignal> {
  return new Promise((resolve) => {
    holdStopSignals(resolve);
  });
}

/**
 * For commands that run once and may refresh (`access-token`, `credit-check`, `revoke`, `save-token`): while `run`
 * runs, a stop signal ends the process at once when no token request is under way, otherwise as soon as its
 * pair is saved or known lost and its lease released. Exit code 128 + the signal number.
 */
export async function stopSafelyDuring<T>(run: () => Promise<T>): Promise<T> {
  const release = holdStopSignals((signal) => {
    const exit = () => process.exit(SIGNAL_EXIT_CODES[signal]);
    if (processTokenExchanges.active === 0) exit();
    note(WAITING);
    void processTokenExchanges.idle().then(exit);
  });
  try {
    return await run();
  } finally {
    release();
  }
}

/** Waits for the token request under way, if any, telling the person why (long-running commands' shutdown). */
export async function finishTokenExchanges(boundMs: number): Promise<boolean> {
  if (processTokenExchanges.active === 0) return true;
  note(WAITING);
  return processTokenExchanges.idleWithin(boundMs);
}
