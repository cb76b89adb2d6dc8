// Doorkeeper::OAuth::Scopes and Helpers::ScopeChecker, reduced to what the emulator needs.

/** `Scopes.from_string`: Ruby's `String#split` on whitespace runs, duplicates dropped, order kept. */
export function parseScopes(scope: string): string[] {
  return [
    ...new Set(
      scope
        .trim()
        .split(/\s+/)
        .filter((s) => s !== ''),
    ),
  ];
}

/**
 * `ScopeChecker.valid?`: the string is present, has no tab / CR / LF, and every scope is one of `allowed`.
 */
export function isValidScopeString(scope: string, allowed: readonly string[]): boolean {
  if (scope.trim() === '' || /[\t\r\n]/.test(scope)) return false;
  return parseScopes(scope).every((s) => allowed.includes(s));
}
