// Replays the repository's Dockerfile without a Docker engine (none exists on the CI machines): every stage
// becomes a folder standing for its filesystem, COPY copies what the build context (minus .dockerignore) or an
// earlier stage holds, RUN runs its commands in the stage's WORKDIR, and the last stage's ENTRYPOINT runs with the
// image's ENV and, for `USER node`, as the unprivileged uid the official node image gives that user.
// What differs from a real build is said where it happens; tests/ops/image.test.ts and docs/operations.md list it.
import { execFile } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { basename, dirname, join, posix, relative, sep } from 'node:path';
import { promisify } from 'node:util';
import { isIgnored, parseDockerfile, parseDockerignore, type Stage } from './dockerfile.ts';

const exec = promisify(execFile);

/** The users the official node image has (its Dockerfile: `groupadd --gid 1000 node && useradd --uid 1000 …`). */
const IMAGE_USERS: Readonly<Record<string, { uid: number; gid: number; home: string }>> = {
  root: { uid: 0, gid: 0, home: '/root' },
  node: { uid: 1000, gid: 1000, home: '/home/node' },
};
/** The official node image's PATH (its ENV is Debian's default PATH). */
const IMAGE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ImageRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ReplayedImage {
  /** The folder standing for the image's `/`. */
  readonly root: string;
  /** How the process is confined: `uid 1000` (run as that user) or `read-only files` (not root here). */
  readonly confinement: string;
  /** `docker run <image> <args>`: the ENTRYPOINT with `args` (or CMD), the image's ENV, then `env`. */
  run(args: readonly string[], env?: Readonly<Record<string, string>>, timeoutMs?: number): Promise<ImageRun>;
}

interface StageState {
  readonly root: string;
  workdir: string;
  env: Record<string, string>;
  user: string;
  entrypoint: readonly string[];
  cmd: readonly string[];
}

/**
 * Builds the image of `context`'s Dockerfile in `work` (an empty folder; the caller removes it). Steps the replay
 * does not know fail, as a broken build would.
 */
export async function replayImage(context: string, work: string): Promise<ReplayedImage> {
  // Node resolves packages in every node_modules above a module: one above `work` would hand the image packages
  // it does not hold.
  for (let dir = dirname(work); dir !== dirname(dir); dir = dirname(dir))
    if (existsSync(join(dir, 'node_modules')))
      throw new Error(`${dir}/node_modules would be visible to the replayed image; use another folder`);
  if (existsSync('/node_modules')) throw new Error('/node_modules would be visible to the replayed image');
  // mkdtemp gives 0700; the image's user must reach its files, as in the image's `/`.
  chmodSync(work, 0o755);
  const stages = parseDockerfile(readFileSync(join(context, 'Dockerfile'), 'utf8'));
  const dockerignore = join(context, '.dockerignore');
  const ignored = existsSync(dockerignore) ? parseDockerignore(readFileSync(dockerignore, 'utf8')) : [];
  const built = new Map<string, StageState>();
  /** Folders where `npm ci` with devDependencies was stood in for by the repository's node_modules. */
  const devInstalls: string[] = [];
  let last: StageState | undefined;
  for (const [index, stage] of stages.entries()) {
    last = await buildStage(stage, join(work, `${index}-${stage.name}`), {
      context,
      ignored,
      built,
      devInstalls,
    });
    built.set(stage.name, last);
  }
  return finish(last!);
}

interface BuildContext {
  readonly context: string;
  readonly ignored: readonly string[];
  readonly built: ReadonlyMap<string, StageState>;
  readonly devInstalls: string[];
}

async function buildStage(stage: Stage, root: string, build: BuildContext): Promise<StageState> {
  const major = /^node:(\d+)(?:[-.@]|$)/.exec(stage.base)?.[1];
  // The replay runs every step on the Node running the tests: it stands for the base image only if they agree.
  if (major !== process.versions.node.split('.')[0])
    throw new Error(
      `FROM ${stage.base}: the replay stands in Node ${process.versions.node} for it; they must agree`,
    );
  mkdirSync(root, { mode: 0o755 });
  const state: StageState = {
    root,
    workdir: '/',
    env: { PATH: IMAGE_PATH },
    user: 'root',
    entrypoint: [],
    cmd: [],
  };
  for (const step of stage.steps) {
    switch (step.kind) {
      case 'WORKDIR':
        state.workdir = step.path;
        mkdirSync(inStage(state, step.path), { recursive: true, mode: 0o755 });
        break;
      case 'COPY':
        copy(state, step.sources, step.dest, step.from, build);
        break;
      case 'RUN':
        if (state.user !== 'root') throw new Error(`RUN after USER ${state.user} is not replayed`);
        for (const command of step.command.split(/\s+&&\s+/)) await run(state, command, build);
        break;
      case 'ENV':
        state.env = { ...state.env, ...step.vars };
        break;
      case 'USER':
        if (IMAGE_USERS[step.user] === undefined)
          throw new Error(`USER ${step.user}: the node image has no such user`);
        state.user = step.user;
        break;
      case 'ENTRYPOINT':
        state.entrypoint = step.args;
        state.cmd = [];
        break;
      case 'CMD':
        state.cmd = step.args;
        break;
    }
  }
  return state;
}

/** An absolute path of the stage's filesystem, or one relative to its WORKDIR, as a folder here. */
function inStage(state: StageState, path: string): string {
  const absolute = posix.resolve(state.workdir, path);
  return join(state.root, ...absolute.split('/').filter(Boolean));
}

function copy(
  state: StageState,
  sources: readonly string[],
  dest: string,
  from: string | undefined,
  build: BuildContext,
): void {
  const source = from === undefined ? undefined : build.built.get(from);
  if (from !== undefined && source === undefined)
    throw new Error(`COPY --from=${from}: no earlier stage of that name`);
  const target = inStage(state, dest);
  const intoFolder =
    dest.endsWith('/') || sources.length > 1 || (existsSync(target) && statSync(target).isDirectory());
  for (const path of sources) {
    let origin: string;
    if (source === undefined) {
      const relativePath = posix.normalize(path).replace(/\/+$/, '');
      if (relativePath.startsWith('..')) throw new Error(`COPY ${path}: outside the build context`);
      origin = join(build.context, relativePath);
      // Docker sends the context without the ignored files: a COPY of one of them finds nothing.
      if (isIgnored(relativePath, build.ignored) || !existsSync(origin))
        throw new Error(`COPY ${path}: not in the build context`);
    } else {
      origin = join(source.root, ...posix.resolve('/', path).split('/').filter(Boolean));
      if (!existsSync(origin)) throw new Error(`COPY --from=${from} ${path}: not found in that stage`);
      for (const dev of build.devInstalls)
        if (origin === dev || origin.startsWith(`${dev}${sep}`) || dev.startsWith(`${origin}${sep}`))
          throw new Error(
            `COPY --from=${from} ${path}: that carries the build's devDependencies into the image`,
          );
    }
    const filter =
      source === undefined
        ? (file: string) => !isIgnored(relative(build.context, file).split(sep).join('/'), build.ignored)
        : () => true;
    // Docker copies a folder's contents (not the folder) and keeps modes and symlinks; the owner is root.
    if (statSync(origin).isDirectory()) {
      cpSync(origin, target, { recursive: true, filter, verbatimSymlinks: true });
    } else {
      const file = intoFolder ? join(target, basename(origin)) : target;
      mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
      copyFileSync(origin, file);
    }
  }
}

/**
 * What RUN's commands find: the Node running the tests (standing for the base image's), the machine's npm and the
 * registry settings npm needs here, nothing of the repository (under `npm test` the npm_* variables and the PATH
 * name its folders: an npm that read them would install into the checkout).
 */
function runEnv(state: StageState): Record<string, string> {
  const passed =
    /^(HOME|LANG|NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|(https?|no)_proxy|npm_config_(globalconfig|userconfig|cafile|registry|cache|(https_)?proxy|noproxy|strict_ssl))$/i;
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env))
    if (value !== undefined && passed.test(name)) env[name] = value;
  const path = (process.env.PATH ?? '')
    .split(':')
    .filter((dir) => dir !== '' && !dir.includes('node_modules'));
  const { PATH: _imagePath, ...stageEnv } = state.env;
  return { ...env, ...stageEnv, PATH: [dirname(process.execPath), ...path].join(':') };
}

async function run(state: StageState, command: string, build: BuildContext): Promise<void> {
  const cwd = inStage(state, state.workdir);
  const words = command.trim().split(/\s+/);
  if (words[0] === 'npm' && words[1] === 'ci' && !words.includes('--omit=dev')) {
    // The full install (devDependencies: the compiler, the bundler) would take minutes from npm's cache. The
    // repository's node_modules is that install of the same lockfile; a COPY of it into the image fails above.
    const lock = readFileSync(join(build.context, 'package-lock.json'), 'utf8');
    if (readFileSync(join(cwd, 'package-lock.json'), 'utf8') !== lock)
      throw new Error(`RUN ${command}: the stage's package-lock.json is not the repository's`);
    symlinkSync(realpathSync(join(build.context, 'node_modules')), join(cwd, 'node_modules'));
    build.devInstalls.push(join(cwd, 'node_modules'));
    return;
  }
  // `npm ci --omit=dev` runs as written, from npm's cache where it can.
  const line = words[0] === 'npm' && words[1] === 'ci' ? `${command} --prefer-offline` : command;
  try {
    await exec('sh', ['-c', line], {
      cwd,
      env: runEnv(state),
      timeout: 180_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`RUN ${command} failed in stage ${basename(state.root)}:\n${stdout}\n${stderr}`);
  }
}

/** The last stage as the image: the base image's node, /tmp and the user's home, and its confinement. */
function finish(state: StageState): ReplayedImage {
  const bin = inStage(state, '/usr/local/bin');
  mkdirSync(bin, { recursive: true, mode: 0o755 });
  try {
    linkSync(process.execPath, join(bin, 'node'));
  } catch {
    copyFileSync(process.execPath, join(bin, 'node'));
  }
  const user = IMAGE_USERS[state.user]!;
  const asRoot = process.getuid?.() === 0;
  const tmp = inStage(state, '/tmp');
  mkdirSync(tmp, { recursive: true });
  chmodSync(tmp, 0o1777);
  const home = inStage(state, user.home);
  mkdirSync(home, { recursive: true, mode: 0o755 });
  // Every other file is root's (Docker's COPY and RUN too): the user reads them and writes none.
  if (asRoot) chownSync(home, user.uid, user.gid);
  // Not root here, so the process cannot run as another user: it runs as the owner of the files, which are made
  // read-only instead (the owner could chmod them back; the CLI never does).
  else makeReadOnly(state.root, [tmp, home]);
  const confinement = asRoot ? `uid ${user.uid}` : 'read-only files';
  const mapArg = (arg: string) =>
    arg.startsWith('/') && existsSync(inStage(state, arg)) ? inStage(state, arg) : arg;
  const path = state.env.PATH!.split(':').map((dir) => inStage(state, dir));
  return {
    root: state.root,
    confinement,
    async run(args, env = {}, timeoutMs = 30_000) {
      const argv = [...state.entrypoint, ...(args.length > 0 ? args : state.cmd)];
      const [command, ...rest] = argv;
      if (command === undefined) throw new Error('the image has neither ENTRYPOINT nor CMD');
      const executable = command.includes('/')
        ? mapArg(command)
        : (path.map((dir) => join(dir, command)).find((file) => existsSync(file)) ?? command);
      const options = {
        cwd: inStage(state, state.workdir),
        // Only what the image and the platform give: Docker adds HOME (the user's) and HOSTNAME.
        env: {
          ...state.env,
          PATH: path.join(':'),
          HOME: home,
          TMPDIR: tmp,
          HOSTNAME: 'alarmbox-image',
          ...env,
        },
        timeout: timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        ...(asRoot ? { uid: user.uid, gid: user.gid } : {}),
      };
      return new Promise((resolve) => {
        execFile(executable, rest.map(mapArg), options, (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
          resolve({ code, stdout, stderr });
        });
      });
    },
  };
}

function makeReadOnly(dir: string, except: readonly string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (except.includes(path)) continue;
    if (entry.isDirectory()) makeReadOnly(path, except);
    else if (entry.isFile()) chmodSync(path, statSync(path).mode & 0o555);
  }
  chmodSync(dir, statSync(dir).mode & 0o555);
}

/** Removes a replay's folder, read-only parts included. */
export function removeReplay(work: string): void {
  const writable = (dir: string): void => {
    chmodSync(dir, statSync(dir).mode | 0o700);
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) writable(join(dir, entry.name));
  };
  if (!existsSync(work)) return;
  if (process.getuid?.() !== 0) writable(work);
  rmSync(work, { recursive: true, force: true });
}
