export { LockWaitTimeoutError } from './errors.ts';
export type { HolderWatch } from './holder-watch.ts';
export type { LeaseRow } from './lease-sql.ts';
export { type AcquireOptions, type Lease, LockManager, type LockManagerOptions } from './lock-manager.ts';
export { LOCK_NAME_TOKEN_REFRESH } from './names.ts';
export { defaultOwnerId } from './owner-id.ts';
