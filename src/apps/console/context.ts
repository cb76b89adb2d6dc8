import type { SecureHeadersVariables } from 'hono/secure-headers';
import type { Toolkit } from '../../create.ts';

/** What the console's handlers work with. */
export interface ConsoleDeps {
  readonly alarmbox: Toolkit;
  /** Set when the console runs its own emulator and temporary store (`--emulator`). */
  readonly sandbox?:
    | {
        readonly emulatorUrl: string;
        /** Where the temporary database and key live until the console stops. */
        readonly dir: string;
      }
    | undefined;
  /** The port the console listens on; known only once it listens (port 0 picks a free one). */
  readonly port: () => number;
  /** One line per action, for the terminal that started the console. Never a token, code or secret. */
  readonly log: (line: string) => void;
}

export type ConsoleEnv = {
  Variables: SecureHeadersVariables & {
    /** The CSRF token for this browser's forms (see csrf.ts). */
    csrfToken: string;
  };
};

/** The loopback host names the console answers to (anything else is refused: DNS rebinding). */
export const CONSOLE_HOSTS = ['127.0.0.1', 'localhost'] as const;
