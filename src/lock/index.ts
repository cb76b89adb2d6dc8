export { isoOfDbTime } from './errors.ts';
export {
  type InspectedLease,
  inspectLeases,
  MAX_LEASE_MS,
} from './lease-sql.ts';
export { type Lease, LockManager } from './lock-manager.ts';
