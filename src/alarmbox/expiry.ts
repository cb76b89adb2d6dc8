/** The guide's EXPIRY_MARGIN: refresh from 5 minutes before expiry… */
export const EXPIRY_MARGIN_MS = 5 * 60_000;

/**
 * …but never more than half the token's lifetime, or a token that lives 5 minutes (a test setting, or an
 * AlarmBox change) would count as expiring the moment it arrives and every read would refresh.
 */
export function expiryMarginMs(expiredAt: Date, issuedAt: Date | null): number {
  const lifetime = issuedAt === null ? 0 : expiredAt.getTime() - issuedAt.getTime();
  return Math.max(0, Math.min(EXPIRY_MARGIN_MS, lifetime / 2));
}

/** トークンの期限切れを判定 (an unknown expiry counts as expired, as in the guide). */
export function isExpiring(expiredAt: Date | null, issuedAt: Date | null, now: Date = new Date()): boolean {
  if (expiredAt === null) return true;
  return now.getTime() >= expiredAt.getTime() - expiryMarginMs(expiredAt, issuedAt);
}

/** Expiry counted from when the request was sent, so a slow answer never makes us overestimate it. */
export function expiryFrom(requestedAt: Date, expiresInSeconds: number): Date {
  return new Date(requestedAt.getTime() + expiresInSeconds * 1000);
}
