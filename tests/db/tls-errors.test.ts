// The mapping of TLS and certificate failures (src/db/tls-errors.ts, through toDatabaseError): every shape
// Node, OpenSSL, pg and mysql2 give them (a code, mysql2's HANDSHAKE_SSL_ERROR over the original, a string
// `reason` of their own) becomes a DatabaseTlsError, reason configuration, naming the server. The real
// handshakes are tests/db/tls.test.ts's; here the cases a test server cannot easily produce (an expired
// certificate, a revoked one, a PEM error at connect time) are fed in as the drivers report them.
import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, parseDatabaseUrl, toDatabaseError } from '../../src/db/index.ts';
import { DatabaseTlsError } from '../../src/db/tls-errors.ts';

const PASSWORD = 'S3cret-Pa55';
const targets = {
  postgres: parseDatabaseUrl(`postgres://app:${PASSWORD}@db.example.com:6432/app?sslmode=verify-full`),
  mysql: parseDatabaseUrl(`mysql://app:${PASSWORD}@db.example.com:3307/app?ssl-mode=VERIFY_IDENTITY`),
};

function tlsError(message: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(message), fields);
}

const CASES: [string, () => Error, string][] = [
  [
    'a name mismatch with its own string reason (once exit 0)',
    () =>
      tlsError(
        "Hostname/IP does not match certificate's altnames: IP: 127.0.0.1 is not in the cert's list: ",
        {
          code: 'ERR_TLS_CERT_ALTNAME_INVALID',
          reason: "IP: 127.0.0.1 is not in the cert's list: ",
          host: '127.0.0.1',
        },
      ),
    'DATABASE_URL のホスト名が載っていません',
  ],
  [
    'mysql2: the name mismatch under HANDSHAKE_SSL_ERROR',
    () =>
      tlsError(
        "Hostname/IP does not match certificate's altnames: Host: db.example.com. is not in the cert's altnames: DNS:x",
        {
          code: 'HANDSHAKE_SSL_ERROR',
          reason: "Host: db.example.com. is not in the cert's altnames: DNS:x",
          fatal: true,
        },
      ),
    'DATABASE_URL のホスト名が載っていません',
  ],
  [
    'SELF_SIGNED_CERT_IN_CHAIN',
    () => tlsError('self-signed certificate in certificate chain', { code: 'SELF_SIGNED_CERT_IN_CHAIN' }),
    'CA が信頼されていません',
  ],
  [
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    () => tlsError('unable to verify the first certificate', { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }),
    'CA が信頼されていません',
  ],
  [
    'mysql2: an unknown CA under HANDSHAKE_SSL_ERROR',
    () => tlsError('unable to get local issuer certificate', { code: 'HANDSHAKE_SSL_ERROR' }),
    'CA が信頼されていません',
  ],
  [
    'CERT_HAS_EXPIRED',
    () => tlsError('certificate has expired', { code: 'CERT_HAS_EXPIRED' }),
    '有効期間外です',
  ],
  [
    'mysql2: expired under HANDSHAKE_SSL_ERROR',
    () => tlsError('certificate has expired', { code: 'HANDSHAKE_SSL_ERROR' }),
    '有効期間外です',
  ],
  [
    'CERT_NOT_YET_VALID',
    () => tlsError('certificate is not yet valid', { code: 'CERT_NOT_YET_VALID' }),
    '有効期間外です',
  ],
  ['CERT_REVOKED', () => tlsError('certificate revoked', { code: 'CERT_REVOKED' }), '検証できません'],
  [
    'pg: the server has no TLS',
    () => new Error('The server does not support SSL connections'),
    'TLS に対応していません',
  ],
  [
    'mysql2: the server has no TLS',
    () =>
      tlsError('Server does not support secure connection', {
        code: 'HANDSHAKE_NO_SSL_SUPPORT',
        fatal: true,
      }),
    'TLS に対応していません',
  ],
  [
    'an OpenSSL alert with library and reason strings',
    () =>
      tlsError('write EPROTO 40:error:0A000410:SSL routines:ssl3_read_bytes:sslv3 alert handshake failure', {
        code: 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE',
        library: 'SSL routines',
        reason: 'sslv3 alert handshake failure',
      }),
    'TLS で接続できません',
  ],
  [
    'a PEM error at connect time',
    () =>
      tlsError('error:0480006C:PEM routines::no start line', {
        code: 'ERR_OSSL_PEM_NO_START_LINE',
        library: 'PEM routines',
        reason: 'no start line',
      }),
    '証明書か鍵のファイルを読めません',
  ],
  [
    'wrapped as the cause of another error',
    () =>
      new Error('connect failed', {
        cause: tlsError('certificate has expired', { code: 'CERT_HAS_EXPIRED' }),
      }),
    '有効期間外です',
  ],
];

describe.each(['postgres', 'mysql'] as const)('TLS failures become configuration errors [%s]', (kind) => {
  it.each(CASES)('%s', (_name, make, text) => {
    const mapped = toDatabaseError(make(), targets[kind]);
    expect(mapped).toBeInstanceOf(DatabaseTlsError);
    expect(mapped).toBeInstanceOf(DatabaseUnavailableError);
    const error = mapped as DatabaseTlsError;
    expect(error.reason).toBe('configuration');
    expect(error.message).toContain(
      `データベースサーバー db.example.com:${kind === 'postgres' ? 6432 : 3307} `,
    );
    expect(error.message).toContain(text);
    expect(error.message).toContain('docs/operations.md「データベースの TLS」');
    expect(error.message).not.toContain(PASSWORD);
  });
});

it('an error mapped once passes through unchanged (no second wrapping)', () => {
  const once = toDatabaseError(
    tlsError('certificate has expired', { code: 'CERT_HAS_EXPIRED' }),
    targets.postgres,
  );
  expect(toDatabaseError(once, targets.postgres)).toBe(once);
});

it('a plaintext client refused by pg_hba.conf (hostssl only) is told to add sslmode', () => {
  const refused = tlsError(
    'pg_hba.conf rejects connection for host "127.0.0.1", user "app", database "app", no encryption',
    { code: '28000', severity: 'FATAL' },
  );
  const mapped = toDatabaseError(refused, parseDatabaseUrl('postgres://app@127.0.0.1:5432/app'));
  expect(mapped).toBeInstanceOf(DatabaseTlsError);
  expect(mapped.message).toContain('データベースサーバー 127.0.0.1:5432 は TLS での接続しか受け付けません');
  expect(mapped.message).toContain('?sslmode=verify-full&sslrootcert=');
});
