// Public entry of the local AlarmBox emulator (`alarmbox-auth/emulator`): a Doorkeeper-faithful OAuth 2.0
// server plus the credit-check API, for trying the whole flow without an AlarmBox account.
import { createEmulator } from './app.ts';
import type { FaultPlan } from './faults.ts';
import type { EmulatorOptions, IssueCodeOptions, ResolvedEmulatorOptions } from './options.ts';
import { baseUrl, listen } from './server.ts';
import type { EmulatorStats } from './stats.ts';

export type { FaultEndpoint, FaultPlan, FaultSpec } from './faults.ts';
export {
  EMULATOR_DEFAULTS,
  type EmulatorClient,
  type EmulatorOptions,
  type EmulatorTls,
  type IssueCodeOptions,
  OOB_REDIRECT_URI,
  type ResolvedEmulatorOptions,
  type RotationMode,
} from './options.ts';
export type { EmulatorStats, TokenGrantKey } from './stats.ts';

/** A started emulator: its URL, the options in force, counters and fault controls. */
export interface RunningEmulator {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:4010`. */
  readonly url: string;
  /** The options in force; `port` is the port actually bound. */
  readonly options: Readonly<ResolvedEmulatorOptions>;
  /** Counters of the requests served so far (token grants, API calls, faults applied). */
  stats(): EmulatorStats;
  /**
   * Issues an authorization code as the consent page would (same checks, single use, valid 10 minutes), with
   * no browser and no redirect to parse: for an application's tests, `await alarmbox.exchangeCode(code)` then
   * registers a token.
   *
   * @param options - Scope (default: all of the application's), redirect URI (default: OOB), client.
   * @returns The code.
   * @throws Error (named `IssueCodeError`) when the emulator would refuse the authorization request.
   */
  issueAuthorizationCode(options?: IssueCodeOptions): string;
  /** Replaces the fault plan (`{}` clears it). Throws on an invalid plan. */
  setFaults(faults: FaultPlan): void;
  /** Shifts the emulator's clock by this many seconds from real time (absolute, not cumulative). */
  setClockOffset(seconds: number): void;
  /** Drops every grant, token, credit check, fault, counter and the clock offset; keeps the options. */
  reset(): void;
  /** Stops listening and closes every connection, keep-alive ones included. */
  close(): Promise<void>;
}

/**
 * Starts the AlarmBox emulator (OAuth endpoints and the credit-check API) on 127.0.0.1.
 *
 * @param options - Port, client credentials, token lifetimes, faults; `port: 0` picks a free port.
 * @returns The running emulator; stop it with `close()`.
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const { app, options: resolved, ...controls } = createEmulator(options);
  const server = await listen(app, resolved.host, resolved.port, options.tls);
  const bound: ResolvedEmulatorOptions = Object.freeze({ ...resolved, port: server.port });
  return {
    ...controls,
    url: baseUrl(bound.host, bound.port, options.tls !== undefined),
    options: bound,
    close: () => server.close(),
  };
}
