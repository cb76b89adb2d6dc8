export { isoOfDbTime, type LockHolder, LockWaitTimeoutError } from './errors.ts';
export {
  type InspectedLease,
  inspectLeases,
  type LeaseRow,
  type LeaseState,
  MAX_LEASE_MS,
} from './lease-sql.ts';
export { type AcquireOptions, type Lease, LockManager, type LockManagerOptions } from './lock-manager.ts';
