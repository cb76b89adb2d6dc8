// The public options of seeding, apart from seed.ts: that module needs the emulator's state (and so Hono's
// types), which the published `alarmbox-auth/emulator` declarations must not pull in for an app's type check.

/** Options of `RunningEmulator.issueAuthorizationCode`. */
export interface IssueCodeOptions {
  /** Space-separated scopes; default: every scope of the application (as a request without `scope`). */
  readonly scope?: string | undefined;
  /** The redirect URI the exchange will name; default: the OOB URI (`urn:ietf:wg:oauth:2.0:oob`). */
  readonly redirectUri?: string | undefined;
  /** Another registered client (`additionalClients`); default: the main one. */
  readonly clientId?: string | undefined;
}
