import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** The owner column's width (varchar(191)). */
export const MAX_OWNER_LENGTH = 191;

/**
 * `host:pid:random`: readable in the table when someone wonders who holds a lease, and unique even when
 * two LockManagers live in one process.
 */
export function defaultOwnerId(): string {
  const suffix = `:${process.pid}:${randomBytes(6).toString('hex')}`;
  return `${hostname().slice(0, MAX_OWNER_LENGTH - suffix.length)}${suffix}`;
}
