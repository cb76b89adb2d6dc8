// The node:tls options of a server connection, built from the parsed URL (never from its raw query string):
// what each DATABASE_URL mode means is decided here, for both drivers, once.
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import type { DatabaseTls } from '../tls-params.ts';

/** What both drivers hand to `tls.connect`, or false for plaintext. */
export function tlsOptions(host: string, tls: DatabaseTls): false | ConnectionOptions {
  if (tls.mode === 'disable') return false;
  const client = tls.client === undefined ? {} : { cert: tls.client.cert.pem, key: tls.client.key.pem };
  // Without a CA file Node's bundled public CAs are used (only verify-full allows that: see tls-params.ts).
  const ca = tls.ca === undefined ? {} : { ca: tls.ca.pem };
  switch (tls.mode) {
    case 'require':
      // Encrypted against a passive listener, nothing more: libpq's sslmode=require, MySQL's REQUIRED.
      return { rejectUnauthorized: false, ...client };
    case 'verify-ca':
      return { rejectUnauthorized: true, ...ca, ...client, checkServerIdentity: () => undefined };
    case 'verify-full':
      // The name checked is the URL's host, whatever the driver passes as servername (none for an IP: RFC
      // 6066 forbids an IP in SNI) or host. RFC 6125: DNS names against dNSName SANs, IPs against iPAddress.
      return {
        rejectUnauthorized: true,
        ...ca,
        ...client,
        // node:tls on first use: importing it at start costs every cold start (docs/design.md「起動の速さ」).
        checkServerIdentity: (_name: string, cert: PeerCertificate) =>
          process.getBuiltinModule('node:tls').checkServerIdentity(host, cert),
      };
  }
}
