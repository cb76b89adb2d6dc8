/** The guide's `TokenService.LOCK_NAME`: held while a refresh token is being spent. */
export const LOCK_NAME_TOKEN_REFRESH = 'alarmbox-token-refresh';
