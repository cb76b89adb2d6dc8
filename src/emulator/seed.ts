// Authorization codes issued without the browser step, for an application's own tests: the code is the one the
// consent page would show (the same grant record, single use, valid 10 minutes), so the test then runs the real
// code exchange (`alarmbox.exchangeCode(code)` or `alarmbox save-token --code`). Kept in the emulator and free of
// the toolkit (.dependency-cruiser.cjs "emulator-standalone"): any client of the emulator can use it.
import { OOB_REDIRECT_URI } from './options.ts';
import { preAuthorize } from './pre-authorization.ts';
import { RESOURCE_OWNER_ID } from './records.ts';
import type { IssueCodeOptions } from './seed-options.ts';
import type { EmulatorState } from './state.ts';

/** The emulator refused to issue a code: an unknown client, redirect URI or scope. */
export class IssueCodeError extends Error {
  override readonly name = 'IssueCodeError';
}

/**
 * What `GET /oauth/authorize` followed by the person's approval yields, with the same checks (pre-authorization)
 * and the same grant: the code.
 * @throws IssueCodeError when the authorization request would be refused (its OAuth error and description)
 */
export function issueAuthorizationCode(state: EmulatorState, options: IssueCodeOptions = {}): string {
  const params = new Map<string, string>([
    ['client_id', options.clientId ?? state.options.clientId],
    ['redirect_uri', options.redirectUri ?? OOB_REDIRECT_URI],
    ['response_type', 'code'],
  ]);
  if (options.scope !== undefined) params.set('scope', options.scope);
  const result = preAuthorize(state, params);
  if (!result.ok) {
    throw new IssueCodeError(
      `エミュレータは認可コードを発行しませんでした: ${result.error.error} (${result.error.description})。` +
        'clientId・redirectUri・scope がエミュレータの設定 (startEmulator のオプション) にあるか確認してください。',
    );
  }
  const { preAuth } = result;
  return state.store.createGrant({
    applicationUid: preAuth.client.uid,
    resourceOwnerId: RESOURCE_OWNER_ID,
    redirectUri: preAuth.redirectUri,
    scopes: preAuth.scopes,
    nowMs: state.clock.nowMs(),
  }).code;
}
