// The exit codes belong to the whole toolkit (the job runner reports them too); the CLI keeps this path.
export { ExitCode, exitCodeFor } from '../../exit-codes.ts';
