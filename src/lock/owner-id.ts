// Who holds a lease: `host:pid:machine.random`, readable in the table by a person wondering who holds it, and
// enough for another process to tell whether the holder is a dead process of its own machine.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/** The owner column's width (varchar(191)). */
export const MAX_OWNER_LENGTH = 191;

const OWNER = /^(.*):(\d{1,10}):([0-9a-f]{8})\.[0-9a-f]{12}$/;

/**
 * Where `process.kill(pid, 0)` reaches the same processes as ours: the same running kernel (its boot id) and
 * the same PID namespace. A host name alone is not enough: containers sharing the host's network also share
 * its name but not its PIDs, and some platforms give every instance the same name. Where /proc is missing
 * (macOS), the host name stands in.
 */
// Computed on first use: the first SHA-256 initialises OpenSSL's digests, ~3.5 ms of a start-up (`alarmbox status`)
// that may never take a lease.
let machine: string | undefined;
function machineId(): string {
  machine ??= computeMachineId();
  return machine;
}

function computeMachineId(): string {
  let where: string;
  try {
    where = `${readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()}/${readlinkSync('/proc/self/ns/pid')}`;
  } catch {
    where = `host:${hostname()}`;
  }
  return createHash('sha256').update(where).digest('hex').slice(0, 8);
}

/** A new owner id of this process, unique even when two LockManagers live in one process. */
export function defaultOwnerId(): string {
  const suffix = `:${process.pid}:${machineId()}.${randomBytes(6).toString('hex')}`;
  return `${hostname().slice(0, MAX_OWNER_LENGTH - suffix.length)}${suffix}`;
}

/**
 * Whether `owner` names a process of this machine that no longer exists: its lease protects nothing, and can
 * be taken over at once instead of waited out. False whenever that cannot be known for sure (an owner id
 * given by hand, another machine, a process alive or unreachable to signals, a PID reused since), so a live
 * holder's lease is never taken.
 */
export function isDeadLocalOwner(owner: string): boolean {
  const match = OWNER.exec(owner);
  if (match === null || match[3] !== machineId()) return false;
  const pid = Number(match[2]);
  if (pid <= 0 || pid === process.pid) return false;
  return isDeadProcess(pid);
}

/** Whether process `pid` of this machine has ended: it no longer exists, or only as a zombie. */
export function isDeadProcess(pid: number): boolean {
  try {
    // Signal 0 sends nothing: it only asks whether the process exists.
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
  return isZombie(pid);
}

/**
 * A process killed but not yet collected by its parent still answers signal 0. Linux shows it as state `Z`
 * in /proc/<pid>/stat (after the command name, which may itself hold spaces and parentheses).
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
