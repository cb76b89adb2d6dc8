// A throwaway certificate authority for tests that need TLS (database servers, an HTTPS proxy…): make a CA,
// issue certificates for the names a test wants. Everything is made with the openssl command line and lives
// in a directory the test removes.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its key, as files and as PEM text. */
export interface IssuedCertificate {
  readonly certPath: string;
  readonly keyPath: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface IssueOptions {
  /** File name stem in the CA's directory (default: the first name, made file-safe). */
  readonly stem?: string;
  /** For client certificates the subject's CN matters (a database user): default the first name. */
  readonly commonName?: string;
}

export interface TestCa {
  /** The directory holding the CA and everything it issued; {@link TestCa.remove} deletes it. */
  readonly dir: string;
  /** The CA's own certificate: what a client trusts. */
  readonly certPath: string;
  readonly certPem: string;
  /**
   * Issues a leaf certificate for `names` (DNS names and IP addresses, as subjectAltName entries), usable
   * by a server and a client, signed by this CA.
   */
  issue(names: readonly string[], options?: IssueOptions): Promise<IssuedCertificate>;
  remove(): void;
}

/** Makes a CA (EC P-256, valid two days) in a new temporary directory, or in `dir` when given. */
export async function createTestCa(name = 'alarmbox test CA', dir?: string): Promise<TestCa> {
  const home = dir ?? mkdtempSync(join(tmpdir(), 'alarmbox-ca-'));
  const certPath = join(home, 'ca.crt');
  const keyPath = join(home, 'ca.key');
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return {
    dir: home,
    certPath,
    certPem: readFileSync(certPath, 'utf8'),
    issue: (names, options) => issue(home, certPath, keyPath, names, options),
    remove: () => rmSync(home, { recursive: true, force: true }),
  };
}

async function issue(
  dir: string,
  caCert: string,
  caKey: string,
  names: readonly string[],
  options: IssueOptions = {},
): Promise<IssuedCertificate> {
  const first = names[0];
  if (first === undefined) throw new Error('issue() needs at least one name');
  const stem = options.stem ?? first.replace(/[^A-Za-z0-9.-]/g, '_');
  const keyPath = join(dir, `${stem}.key`);
  const csrPath = join(dir, `${stem}.csr`);
  const certPath = join(dir, `${stem}.crt`);
  const extPath = join(dir, `${stem}.ext`);
  const san = names.map((n) => (isIP(n) === 0 ? `DNS:${n}` : `IP:${n}`)).join(',');
  writeFileSync(
    extPath,
    [
      `subjectAltName=${san}`,
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      '',
    ].join('\n'),
  );
  await run('openssl', [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    csrPath,
    '-subj',
    `/CN=${options.commonName ?? first}`,
  ]);
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    csrPath,
    '-CA',
    caCert,
    '-CAkey',
    caKey,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-days',
    '2',
    '-extfile',
    extPath,
    '-out',
    certPath,
  ]);
  return {
    certPath,
    keyPath,
    certPem: readFileSync(certPath, 'utf8'),
    keyPem: readFileSync(keyPath, 'utf8'),
  };
}
