import type { Socket } from 'node:net';
import type { DatabaseTlsMode } from './tls-params.ts';
import { hostPort, type ServerTarget } from './url.ts';

/**
 * The server a pool actually talked to, seen from its socket: what `status` and `doctor` show instead of
 * repeating the URL.
 */
export interface ConnectedServer {
  readonly dialect: 'mysql' | 'postgres';
  /** Host and port as the driver was given them. */
  readonly host: string;
  readonly port: number;
  /** The address and port the socket is connected to (the host resolved). */
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly database: string;
  /** null: plaintext. */
  readonly tls: {
    /** `TLSv1.3`… */
    readonly protocol: string | null;
    /** `full`: chain and host name checked; `ca`: chain only; `none`: not checked (require). */
    readonly verified: 'full' | 'ca' | 'none';
  } | null;
}

const VERIFIED: Readonly<Record<Exclude<DatabaseTlsMode, 'disable'>, 'full' | 'ca' | 'none'>> = {
  'verify-full': 'full',
  'verify-ca': 'ca',
  require: 'none',
};

/** Told of each new connection of a pool: host and port as the driver has them, and its socket. */
export type OnConnected = (
  driver: { readonly host: string; readonly port: number },
  socket: Socket | undefined,
) => void;

/** Reads what a freshly connected socket says about its peer. */
export function connectedServer(
  target: ServerTarget,
  driver: { readonly host: string; readonly port: number },
  socket: Socket | undefined,
): ConnectedServer {
  // node:tls on first use: importing it at start costs every cold start (docs/design.md「起動の速さ」).
  const encrypted = socket instanceof process.getBuiltinModule('node:tls').TLSSocket;
  const mode = target.tls.mode;
  return {
    dialect: target.dialect,
    host: driver.host,
    port: driver.port,
    remoteAddress: socket?.remoteAddress,
    remotePort: socket?.remotePort,
    database: target.database,
    tls: encrypted
      ? {
          protocol: socket.getProtocol(),
          // A connection only exists under verify-* when its check passed (rejectUnauthorized).
          verified: mode === 'disable' ? 'none' : socket.authorized ? VERIFIED[mode] : 'none',
        }
      : null,
  };
}

const VERIFIED_LABEL = {
  full: '証明書とホスト名を検証済み',
  ca: '証明書の CA を検証済み (ホスト名は未検証)',
  none: '証明書は未検証',
} as const;

/** `postgres 127.0.0.1:5432 (アドレス 127.0.0.1:5432) / データベース app / TLS TLSv1.3 (証明書とホスト名を検証済み)`. */
export function describeConnectedServer(server: ConnectedServer): string {
  const remote =
    server.remoteAddress === undefined
      ? ''
      : ` (アドレス ${hostPort(server.remoteAddress, server.remotePort ?? '?')})`;
  const tls =
    server.tls === null
      ? 'TLS なし (平文)'
      : `TLS ${server.tls.protocol ?? ''} (${VERIFIED_LABEL[server.tls.verified]})`.replace('TLS  ', 'TLS ');
  return `${server.dialect} ${hostPort(server.host, server.port)}${remote} / データベース ${server.database} / ${tls}`;
}
