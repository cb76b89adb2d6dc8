// Doorkeeper::OAuth::Helpers::URIChecker: which redirect URIs a request may name.
import { OOB_REDIRECT_URI } from './options.ts';

export function isOobUri(uri: string): boolean {
  return uri === OOB_REDIRECT_URI;
}

/** Where an error may be sent back: anywhere but the OOB URI (`ErrorResponse#redirectable?`). */
export function redirectableUri(uri: string | undefined): string | undefined {
  return uri === undefined || isOobUri(uri) ? undefined : uri;
}

/**
 * `URIChecker.matches?`: the request URI equals a registered one, ignoring the request's query; for
 * loopback IP hosts the port is ignored too (RFC 8252 §7.3: native apps listen on an ephemeral port).
 */
function redirectUriMatches(requested: string, registered: string): boolean {
  if (isOobUri(requested) || isOobUri(registered)) return requested === registered;
  const a = parseHttpUri(requested);
  const b = parseHttpUri(registered);
  if (a === null || b === null) return false;
  if (isLoopback(a.hostname) && isLoopback(b.hostname)) {
    a.port = '';
    b.port = '';
  }
  a.search = '';
  if (b.search === '') return a.href === b.href;
  const registeredQuery = b.search;
  b.search = '';
  return a.href === b.href && sameQuery(new URL(requested).search, registeredQuery);
}

/** `URIChecker.valid_for_authorization?`: a well-formed URI (no fragment) matching one of the registered ones. */
export function isRegisteredRedirectUri(requested: string, registered: readonly string[]): boolean {
  if (!isOobUri(requested)) {
    const uri = parseHttpUri(requested);
    if (uri === null || uri.hash !== '') return false;
  }
  return registered.some((r) => redirectUriMatches(requested, r));
}

function parseHttpUri(value: string): URL | null {
  if (!URL.canParse(value)) return null;
  const url = new URL(value);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
}

function isLoopback(hostname: string): boolean {
  return /^127(?:\.\d{1,3}){3}$/.test(hostname) || hostname === '[::1]';
}

function sameQuery(a: string, b: string): boolean {
  const sorted = (q: string) => [...new URLSearchParams(q)].map(([k, v]) => `${k}=${v}`).sort();
  return JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));
}
