// Long-running commands (emulator, worker, console) stop on Ctrl-C in a terminal and on SIGTERM from
// Kubernetes, Cloud Run or systemd; both end the same way.

/** Resolves with the first SIGINT or SIGTERM, then stops listening (a second Ctrl-C kills as usual). */
export function waitForStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
