// DATABASE_URL's query string: the TLS parameters of PostgreSQL (libpq's names) and MySQL/MariaDB (the mysql
// client's names) are read into a checked TLS setting; every other, repeated, empty or conflicting parameter
// and every unusable certificate file is refused with a Japanese DatabaseUrlError (exit 2), never echoing the
// password. Nothing here connects: the servers are tests/db/tls.test.ts's.
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseUrlError, parseDatabaseUrl } from '../../src/db/index.ts';
import { runCli } from '../support/cli.ts';
import { createTestCa, type IssuedCertificate, type TestCa } from '../support/test-ca.ts';

const PASSWORD = 'S3cret-Pa55';
const PG = `postgres://app:${PASSWORD}@db.internal:5432/app`;
const MY = `mysql://app:${PASSWORD}@db.internal:3306/app`;

let ca: TestCa;
let client: IssuedCertificate;
let other: IssuedCertificate;
let dir: string;
let big: string;
let garbage: string;
let fifo: string;

beforeAll(async () => {
  ca = await createTestCa();
  [client, other] = await Promise.all([
    ca.issue(['alarmbox'], { stem: 'client' }),
    ca.issue(['other'], { stem: 'other' }),
  ]);
  dir = mkdtempSync(join(tmpdir(), 'alarmbox-url-tls-'));
  big = join(dir, 'big.pem');
  writeFileSync(big, '');
  // One byte over the documented cap (1 MiB: src/db/pem-file.ts).
  truncateSync(big, 1024 * 1024 + 1);
  garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
  mkdirSync(join(dir, 'a-directory'));
  fifo = join(dir, 'fifo.pem');
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [fifo]);
});
afterAll(() => {
  ca?.remove();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

function refusal(url: string): DatabaseUrlError {
  let caught: unknown;
  try {
    parseDatabaseUrl(url);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DatabaseUrlError);
  const error = caught as DatabaseUrlError;
  expect(error.reason).toBe('configuration');
  expect(error.message).toMatch(/^DATABASE_URL の形式が正しくありません \(/);
  expect(error.message).not.toContain(PASSWORD);
  return error;
}

describe('TLS parameters that are honoured', () => {
  it('no parameter: plaintext, as before', () => {
    expect(parseDatabaseUrl(PG)).toMatchObject({ tls: { mode: 'disable' } });
    expect(parseDatabaseUrl(MY)).toMatchObject({ tls: { mode: 'disable' } });
  });

  it.each([
    ['sslmode=disable', 'disable'],
    ['sslmode=require', 'require'],
    ['sslmode=verify-full', 'verify-full'],
    ['sslmode=VERIFY-FULL&sslrootcert=system', 'verify-full'],
  ])('PostgreSQL %s', (query, mode) => {
    const target = parseDatabaseUrl(`${PG}?${query}`);
    expect(target).toMatchObject({ tls: { mode } });
    // No file: with verify-full, Node's bundled public CAs.
    expect(target.dialect === 'postgres' && target.tls.ca).toBeUndefined();
  });

  it.each([
    ['ssl-mode=DISABLED', 'disable'],
    ['ssl-mode=REQUIRED', 'require'],
    ['ssl-mode=verify_identity', 'verify-full'],
  ])('MySQL %s', (query, mode) => {
    expect(parseDatabaseUrl(`${MY}?${query}`)).toMatchObject({ tls: { mode } });
  });

  it('reads the CA file and the client certificate, checked, into the target', () => {
    const pg = parseDatabaseUrl(
      `${PG}?sslmode=verify-ca&sslrootcert=${ca.certPath}&sslcert=${client.certPath}&sslkey=${client.keyPath}`,
    );
    expect(pg).toMatchObject({
      tls: {
        mode: 'verify-ca',
        ca: { path: ca.certPath, pem: ca.certPem },
        client: { cert: { pem: client.certPem }, key: { pem: client.keyPem } },
      },
    });
    const my = parseDatabaseUrl(
      `${MY}?ssl-mode=VERIFY_IDENTITY&ssl-ca=${encodeURIComponent(ca.certPath)}&ssl-cert=${client.certPath}&ssl-key=${client.keyPath}`,
    );
    expect(my).toMatchObject({ tls: { mode: 'verify-full', ca: { pem: ca.certPem } } });
  });
});

describe('parameters that are refused (DatabaseUrlError, configuration)', () => {
  // Built lazily: the file paths exist only once beforeAll ran.
  const cases: [string, () => string, string][] = [
    ['pg ?host= override', () => `${PG}?host=evil.example`, 'URL 本体'],
    ['pg ?port= override', () => `${PG}?port=6543`, 'URL 本体'],
    ['pg ?hostaddr=', () => `${PG}?hostaddr=10.0.0.9`, 'URL 本体'],
    ['mysql ?host=', () => `${MY}?host=evil.example`, 'URL 本体'],
    ['pg ?ssl=notjson', () => `${PG}?ssl=notjson`, '"ssl" には対応していません'],
    ['pg ?ssl=true', () => `${PG}?ssl=true`, 'sslmode, sslrootcert, sslcert, sslkey'],
    ['mysql ?ssl={}', () => `${MY}?ssl=%7B%7D`, 'ssl-mode, ssl-ca, ssl-cert, ssl-key'],
    ['mysql ?sslmode= (PostgreSQL name)', () => `${MY}?sslmode=require`, '"sslmode" には対応していません'],
    ['pg ?ssl-mode= (MySQL name)', () => `${PG}?ssl-mode=REQUIRED`, '"ssl-mode" には対応していません'],
    ['an unknown parameter', () => `${PG}?application_name=x`, '"application_name" には対応していません'],
    [
      'a parameter name that is not one',
      () => `${PG}?${PASSWORD}@x`,
      'クエリパラメータ には対応していません',
    ],
    ['two modes', () => `${PG}?sslmode=require&sslmode=disable`, 'sslmode が 2 回以上'],
    ['two MySQL modes', () => `${MY}?ssl-mode=REQUIRED&ssl-mode=DISABLED`, 'ssl-mode が 2 回以上'],
    ['an empty mode', () => `${PG}?sslmode=`, 'sslmode の値が空です'],
    ['an unknown mode', () => `${PG}?sslmode=on`, 'sslmode の値が正しくありません'],
    ['prefer (silent downgrade)', () => `${PG}?sslmode=prefer`, '黙って平文に切り替わる'],
    ['PREFERRED (silent downgrade)', () => `${MY}?ssl-mode=PREFERRED`, '黙って平文に切り替わる'],
    ['a CA without a mode', () => `${PG}?sslrootcert=${ca.certPath}`, 'sslmode も指定してください'],
    [
      'a CA with require (would be unused)',
      () => `${PG}?sslmode=require&sslrootcert=${ca.certPath}`,
      'verify-full',
    ],
    ['a CA with disable', () => `${MY}?ssl-mode=DISABLED&ssl-ca=${ca.certPath}`, '同時に指定できません'],
    [
      'verify-ca without a CA',
      () => `${PG}?sslmode=verify-ca`,
      'sslrootcert (データベースの CA 証明書のファイル) が必要',
    ],
    [
      'VERIFY_CA without a CA',
      () => `${MY}?ssl-mode=VERIFY_CA`,
      'ssl-ca (データベースの CA 証明書のファイル) が必要',
    ],
    ['verify-ca with the public CAs', () => `${PG}?sslmode=verify-ca&sslrootcert=system`, 'が必要'],
    [
      'VERIFY_IDENTITY with an IP host',
      () => `mysql://u:${PASSWORD}@10.0.0.5/app?ssl-mode=VERIFY_IDENTITY`,
      'VERIFY_CA を使ってください',
    ],
    [
      'a certificate without its key',
      () => `${PG}?sslmode=require&sslcert=${client.certPath}`,
      '両方とも指定',
    ],
    [
      "a key that is not the certificate's",
      () => `${PG}?sslmode=require&sslcert=${client.certPath}&sslkey=${other.keyPath}`,
      '対になっていません',
    ],
    [
      'a key that is no key',
      () => `${MY}?ssl-mode=REQUIRED&ssl-cert=${client.certPath}&ssl-key=${ca.certPath}`,
      '秘密鍵として読めません',
    ],
    [
      'a missing CA file',
      () => `${PG}?sslmode=verify-full&sslrootcert=${dir}/nope.pem`,
      'nope.pem が見つかりません',
    ],
    [
      'a CA that is a directory',
      () => `${PG}?sslmode=verify-full&sslrootcert=${dir}/a-directory`,
      '通常のファイルではありません',
    ],
    ['a CA that is a FIFO', () => `${MY}?ssl-mode=VERIFY_CA&ssl-ca=${fifo}`, '通常のファイルではありません'],
    [
      'a CA that is /dev/zero',
      () => `${PG}?sslmode=verify-full&sslrootcert=/dev/zero`,
      '通常のファイルではありません',
    ],
    ['a CA file too big', () => `${PG}?sslmode=verify-full&sslrootcert=${big}`, '大きすぎます'],
    [
      'a CA file without a certificate',
      () => `${PG}?sslmode=verify-full&sslrootcert=${client.keyPath}`,
      'PEM 形式の証明書がありません',
    ],
    [
      'a CA file with a broken certificate',
      () => `${MY}?ssl-mode=VERIFY_CA&ssl-ca=${garbage}`,
      '証明書を読めません',
    ],
    ['a fragment', () => `${PG}#sslmode=verify-full`, '# 以降は書けません'],
  ];

  it.each(cases)('%s', (_name, url, cause) => {
    const started = performance.now();
    expect(refusal(url()).message).toContain(cause);
    // A FIFO or /dev/zero never blocks nor fills memory.
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('the CLI exits 2 with the Japanese message for each, the password never shown', async () => {
    const results = [];
    // Four at a time: each is a process start on a shared 2-core machine.
    for (let i = 0; i < cases.length; i += 4) {
      results.push(
        ...(await Promise.all(
          cases.slice(i, i + 4).map(async ([name, url, cause]) => ({
            name,
            cause,
            r: await runCli(['status'], { DATABASE_URL: url(), ALARMBOX_ENV: 'dev' }),
          })),
        )),
      );
    }
    for (const { name, cause, r } of results) {
      expect({ name, code: r.code }).toEqual({ name, code: 2 });
      expect(r.stderr, name).toContain('DATABASE_URL の形式が正しくありません');
      expect(r.stderr, name).toContain(cause);
      expect(r.stdout + r.stderr, name).not.toContain(PASSWORD);
      expect(r.stderr, name).not.toMatch(/\n\s+at /);
    }
  }, 60_000);
});
