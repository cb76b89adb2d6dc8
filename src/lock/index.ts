export { LockWaitTimeoutError } from './errors.ts';
export type { LeaseRow } from './lease-sql.ts';
export { type AcquireOptions, type Lease, LockManager, type LockManagerOptions } from './lock-manager.ts';
