// Private PostgreSQL and MariaDB servers with TLS, started by a test on a free port with certificates it made
// (tests/support/test-ca.ts) and stopped afterwards. Each lives in a temporary directory: data, socket, log.
// As root, PostgreSQL runs as the user `postgres` (initdb refuses root) and MariaDB with --user=root.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import {
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { closedPort } from './closed-port.ts';
import type { IssuedCertificate } from './test-ca.ts';
import { until } from './until.ts';

const run = promisify(execFile);

export interface TlsServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Presents `certificate` to new connections from now on (the files are replaced, the server reloads them). */
  useCertificate(certificate: IssuedCertificate): Promise<void>;
  /** Runs one statement as the superuser over the server's local socket (create a user, grant…). */
  admin(statement: string): Promise<void>;
  /** Stops the server and deletes its directory. Safe to call twice, and when start failed half-way. */
  stop(): Promise<void>;
}

export interface TlsServerOptions {
  /** The server's certificate and key. */
  readonly certificate: IssuedCertificate;
  /** The CA file the server trusts for client certificates (MariaDB needs one with TLS). */
  readonly caPath: string;
}

const isRoot = process.getuid?.() === 0;

/**
 * On the PostgreSQL server, the user that may connect only with a client certificate of this CN (pg_hba
 * `cert`); the role itself is for the test to create (`admin`).
 */
export const CLIENT_CERT_USER = 'alarmboxcert';

function postgresBin(name: string): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', name)))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const version = versions[0];
  if (version === undefined) throw new Error(`${name} not found under ${root}`);
  return join(root, version, 'bin', name);
}

/** Runs a PostgreSQL tool as `postgres` when we are root. */
async function asPostgres(bin: string, args: readonly string[]): Promise<void> {
  if (isRoot) await run('runuser', ['-u', 'postgres', '--', bin, ...args], { timeout: 60_000 });
  else await run(bin, [...args], { timeout: 60_000 });
}

/**
 * PostgreSQL with `ssl=on` on 127.0.0.1:<free port>, user `postgres` trusted over TLS only (`hostssl`),
 * plaintext TCP rejected (`hostnossl … reject`), database `postgres`.
 */
export async function startTlsPostgres(options: TlsServerOptions): Promise<TlsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'alarmbox-tls-pg-'));
  const data = join(dir, 'data');
  const pgCtl = postgresBin('pg_ctl');
  const port = await closedPort();
  let started = false;
  const stop = async () => {
    if (started) {
      started = false;
      await asPostgres(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const install = (certificate: IssuedCertificate) => {
    copyFileSync(certificate.certPath, join(dir, 'server.crt'));
    rmSync(join(dir, 'server.key'), { force: true });
    writeFileSync(join(dir, 'server.key'), certificate.keyPem, { mode: 0o600 });
    if (isRoot)
      for (const f of ['server.crt', 'server.key']) chownSync(join(dir, f), postgresUid(), postgresGid());
  };
  try {
    if (isRoot) chownSync(dir, postgresUid(), postgresGid());
    await asPostgres(postgresBin('initdb'), [
      '-D',
      data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
      '--locale=C',
    ]);
    install(options.certificate);
    copyFileSync(options.caPath, join(dir, 'ca.crt'));
    if (isRoot) chownSync(join(dir, 'ca.crt'), postgresUid(), postgresGid());
    writeFileSync(
      join(data, 'postgresql.auto.conf'),
      [
        "listen_addresses = '127.0.0.1'",
        `port = ${port}`,
        `unix_socket_directories = '${dir}'`,
        'ssl = on',
        `ssl_cert_file = '${join(dir, 'server.crt')}'`,
        `ssl_key_file = '${join(dir, 'server.key')}'`,
        // Trusted for client certificates (pg_hba `cert`).
        `ssl_ca_file = '${join(dir, 'ca.crt')}'`,
        'fsync = off',
        'synchronous_commit = off',
        'full_page_writes = off',
        'shared_buffers = 16MB',
        'max_connections = 40',
        '',
      ].join('\n'),
    );
    writeFileSync(
      join(data, 'pg_hba.conf'),
      [
        'local all all trust',
        // The user CLIENT_CERT_USER must present a client certificate whose CN is its name.
        `hostssl all ${CLIENT_CERT_USER} 127.0.0.1/32 cert`,
        'hostssl all all 127.0.0.1/32 trust',
        'hostnossl all all 127.0.0.1/32 reject',
        '',
      ].join('\n'),
    );
    await asPostgres(pgCtl, ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
    started = true;
  } catch (error) {
    const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').slice(-2000) : '';
    await stop();
    throw new Error(`could not start the TLS PostgreSQL: ${(error as Error).message}\n${log}`, {
      cause: error,
    });
  }
  return {
    host: '127.0.0.1',
    port,
    async useCertificate(certificate) {
      install(certificate);
      await asPostgres(pgCtl, ['-D', data, 'reload']);
      // reload only signals the postmaster: wait until new connections see the new certificate.
      await until(
        async () => (await presentedCertificate(port, 'postgres')) === fingerprint(certificate),
        20_000,
        50,
      );
    },
    async admin(statement) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ host: dir, port, user: 'postgres', database: 'postgres' });
      await client.connect();
      try {
        await client.query(statement);
      } finally {
        await client.end();
      }
    },
    stop,
  };
}

function postgresUid(): number {
  return idOf('-u');
}
function postgresGid(): number {
  return idOf('-g');
}
let ids: Record<string, number> | undefined;
function idOf(flag: '-u' | '-g'): number {
  ids ??= {};
  const cached = ids[flag];
  if (cached !== undefined) return cached;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const fields = line?.split(':') ?? [];
  const value = Number(fields[flag === '-u' ? 2 : 3]);
  if (!Number.isInteger(value)) throw new Error('no postgres user in /etc/passwd');
  ids[flag] = value;
  return value;
}

/**
 * MariaDB with TLS on 127.0.0.1:<free port> and `--require-secure-transport`: root with an empty password
 * (`root@localhost`, which 127.0.0.1 resolves to), database `test`.
 */
export async function startTlsMariadb(options: TlsServerOptions): Promise<TlsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'alarmbox-tls-maria-'));
  const data = join(dir, 'data');
  const socket = join(dir, 'mariadb.sock');
  const port = await closedPort();
  let child: ChildProcess | undefined;
  const stop = async () => {
    const running = child;
    child = undefined;
    if (running !== undefined && running.exitCode === null) {
      const exited = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const install = (certificate: IssuedCertificate) => {
    copyFileSync(certificate.certPath, join(dir, 'server.crt'));
    writeFileSync(join(dir, 'server.key'), certificate.keyPem, { mode: 0o600 });
  };
  let stderr = '';
  try {
    await run(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${data}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...(isRoot ? ['--user=root'] : []),
      ],
      { timeout: 60_000 },
    );
    install(options.certificate);
    copyFileSync(options.caPath, join(dir, 'ca.crt'));
    child = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--port=${port}`,
        `--socket=${socket}`,
        '--bind-address=127.0.0.1',
        `--pid-file=${join(dir, 'mariadb.pid')}`,
        `--ssl-ca=${join(dir, 'ca.crt')}`,
        `--ssl-cert=${join(dir, 'server.crt')}`,
        `--ssl-key=${join(dir, 'server.key')}`,
        '--require-secure-transport',
        '--innodb-buffer-pool-size=16M',
        '--innodb-log-file-size=8M',
        '--skip-log-bin',
        '--innodb-flush-log-at-trx-commit=0',
        ...(isRoot ? ['--user=root'] : []),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const started = child;
    await until(
      async () => {
        if (started.exitCode !== null) throw new Error(`mariadbd exited with ${started.exitCode}`);
        return existsSync(socket) && (await mariadbAnswers(socket));
      },
      60_000,
      50,
    );
    await mariadbQuery(socket, 'create database if not exists test');
  } catch (error) {
    await stop();
    throw new Error(`could not start the TLS MariaDB: ${(error as Error).message}\n${stderr}`, {
      cause: error,
    });
  }
  return {
    host: '127.0.0.1',
    port,
    async useCertificate(certificate) {
      install(certificate);
      // MariaDB 10.4+: reloads the certificate, key and CA for new connections.
      await mariadbQuery(socket, 'flush ssl');
      await until(
        async () => (await presentedCertificate(port, 'mysql')) === fingerprint(certificate),
        20_000,
        50,
      );
    },
    admin: (statement) => mariadbQuery(socket, statement),
    stop,
  };
}

async function mariadbAnswers(socket: string): Promise<boolean> {
  try {
    await mariadbQuery(socket, 'select 1');
    return true;
  } catch {
    return false;
  }
}

async function mariadbQuery(socket: string, statement: string): Promise<void> {
  const { createConnection } = await import('mysql2/promise');
  const connection = await createConnection({ socketPath: socket, user: 'root' });
  try {
    await connection.query(statement);
  } finally {
    await connection.end();
  }
}

function fingerprint(certificate: IssuedCertificate): string {
  return new X509Certificate(certificate.certPem).fingerprint256;
}

/** The SHA-256 fingerprint of the certificate a server presents over TLS now. */
async function presentedCertificate(port: number, kind: 'postgres' | 'mysql'): Promise<string | undefined> {
  if (kind === 'postgres') {
    const { default: pg } = await import('pg');
    const client = new pg.Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'postgres',
      ssl: { rejectUnauthorized: false },
    });
    try {
      await client.connect();
      const stream = (client as unknown as { connection: { stream: import('node:tls').TLSSocket } })
        .connection.stream;
      return stream.getPeerCertificate().fingerprint256;
    } catch {
      return undefined;
    } finally {
      await client.end().catch(() => {});
    }
  }
  const { createConnection } = await import('mysql2/promise');
  try {
    const connection = await createConnection({
      host: '127.0.0.1',
      port,
      user: 'root',
      ssl: { rejectUnauthorized: false },
    });
    try {
      const stream = (
        (connection as unknown as { connection: unknown }).connection as {
          stream: import('node:tls').TLSSocket;
        }
      ).stream;
      return stream.getPeerCertificate().fingerprint256;
    } finally {
      await connection.end();
    }
  } catch {
    return undefined;
  }
}
