// Bad input gets Doorkeeper's answer or a 4xx, never a crash or a hang; the log never shows a secret.
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningEmulator, startEmulator } from '../../src/emulator/index.ts';
import {
  authorizeCode,
  CLIENT_ID,
  CLIENT_SECRET,
  createCreditCheck,
  exchangeCode,
  OOB,
  postToken,
  refresh,
  type TokenBody,
} from './helpers.ts';

const logLines: string[] = [];
let emu: RunningEmulator;
let url: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0, log: (line) => logLines.push(line) });
  url = emu.url;
});
afterAll(() => emu.close());

const invalidRequest = {
  error: 'invalid_request',
  error_description:
    'The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.',
};

function rawToken(
  body: Uint8Array | string,
  contentType = 'application/x-www-form-urlencoded',
): Promise<Response> {
  return fetch(`${url}/oauth/token`, { method: 'POST', headers: { 'Content-Type': contentType }, body });
}

async function expectStillAnswering(): Promise<void> {
  const res = await fetch(`${url}/__emulator/health`);
  expect(res.status).toBe(200);
}

/** Sends raw bytes on a fresh TCP connection and resolves with whatever comes back before the server closes. */
function rawHttp(bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(bytes));
    let answer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      answer += chunk;
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => reject(new Error('no answer within 5 s')));
  });
}

describe('malformed parameters', () => {
  it('answers invalid %-encoding and invalid UTF-8 with 400 invalid_request', async () => {
    for (const body of [
      'grant_type=refresh_token&refresh_token=%ZZ',
      'grant_type=refresh_token&refresh_token=%FF%FE',
      Buffer.from([0x67, 0x72, 0x61, 0x6e, 0x74, 0x3d, 0xff, 0xfe, 0x80]),
    ]) {
      const res = await rawToken(body);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual(invalidRequest);
    }
    const query = await fetch(`${url}/oauth/authorize?client_id=%E3%81`);
    expect(query.status).toBe(400);
    await expectStillAnswering();
  });

  it('answers an invalid JSON body with 400, and ignores bodies of other media types', async () => {
    const broken = await rawToken('{"grant_type": "refresh_token",', 'application/json');
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual(invalidRequest);
    const array = await rawToken('["grant_type"]', 'application/json');
    expect(((await array.json()) as { error_description: string }).error_description).toBe(
      'Missing required parameter: grant_type.',
    );
    const text = await rawToken('grant_type=refresh_token', 'text/plain');
    expect(text.status).toBe(400);
    expect(((await text.json()) as { error_description: string }).error_description).toBe(
      'Missing required parameter: grant_type.',
    );
    const multipart = await rawToken('--x\r\n', 'multipart/form-data; boundary=x');
    expect(multipart.status).toBe(400);
    await expectStillAnswering();
  });

  it('takes the last of repeated parameters and ignores bracketed names, as Rack does', async () => {
    const repeated = await rawToken('grant_type=password&grant_type=refresh_token');
    expect(((await repeated.json()) as { error_description: string }).error_description).toBe(
      'Missing required parameter: refresh_token.',
    );
    const nested = await rawToken('grant_type[]=refresh_token&grant_type[x]=y');
    expect(((await nested.json()) as { error_description: string }).error_description).toBe(
      'Missing required parameter: grant_type.',
    );
  });

  it('refuses bodies over 1 MiB with 413, declared or streamed', async () => {
    const big = `grant_type=refresh_token&refresh_token=${'a'.repeat(1024 * 1024)}`;
    const declared = await rawToken(big);
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { error: string }).error).toBe('invalid_request');
    const chunk = new Uint8Array(64 * 1024).fill(0x61);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 2 * 1024 * 1024) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const streamed = await fetch(`${url}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    const { access_token } = await (async () => {
      const code = await authorizeCode(url);
      return (await (await exchangeCode(url, code)).json()) as TokenBody;
    })();
    const api = await createCreditCheck(url, access_token, {
      corporation_number: '0000000000001',
      pad: 'x'.repeat(1100000),
    });
    expect(api.status).toBe(413);
    await expectStillAnswering();
  });

  it('survives garbage on the wire', async () => {
    expect(await rawHttp('GARBAGE\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect(await rawHttp(Buffer.from([0, 1, 2, 255, 13, 10, 13, 10]))).toMatch(/^HTTP\/1\.1 400/);
    const lying = await rawHttp(
      'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\nConnection: close\r\n\r\ngrant_type',
    );
    // The declared body never fully arrives; the client gave up (end), so the server must not hang.
    expect(typeof lying).toBe('string');
    await expectStillAnswering();
  });

  it('answers any random body with a 4xx JSON error (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 256 }),
          // Plausible parameter names with arbitrary values: reaches the grant logic, not only the parser.
          fc
            .dictionary(
              fc.constantFrom(
                'grant_type',
                'code',
                'refresh_token',
                'client_id',
                'client_secret',
                'redirect_uri',
                'scope',
              ),
              fc.oneof(
                fc.string(),
                fc.constantFrom('authorization_code', 'refresh_token', 'local-client-id'),
              ),
            )
            .map((params) => new URLSearchParams(params).toString()),
        ),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain'),
        async (body, type) => {
          const res = await rawToken(body, type);
          expect([400, 401, 413]).toContain(res.status);
          const json = (await res.json()) as { error: string };
          expect(typeof json.error).toBe('string');
        },
      ),
      { numRuns: 150 },
    );
    await expectStillAnswering();
  });
});

describe('request log', () => {
  it('never contains a token, a code or the client secret', async () => {
    logLines.length = 0;
    const code = await authorizeCode(url);
    await fetch(`${url}/oauth/authorize/native?code=${code}`);
    const pair = (await (await exchangeCode(url, code)).json()) as TokenBody;
    const basic = `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`;
    const next = (await (await refresh(url, pair.refresh_token)).json()) as TokenBody;
    await postToken(
      url,
      { grant_type: 'refresh_token', refresh_token: next.refresh_token },
      { headers: { Authorization: basic } },
    );
    await fetch(`${url}/oauth/token/info?access_token=${next.access_token}`);
    await fetch(
      `${url}/oauth/authorize?client_id=${CLIENT_ID}&redirect_uri=${encodeURIComponent(OOB)}&response_type=code&state=${CLIENT_SECRET}`,
    );
    const log = logLines.join('\n');
    expect(logLines.length).toBeGreaterThanOrEqual(7);
    expect(log).toContain('POST /oauth/token 200');
    for (const secret of [
      code,
      pair.access_token,
      pair.refresh_token,
      next.access_token,
      next.refresh_token,
      CLIENT_SECRET,
    ]) {
      expect(log).not.toContain(secret);
    }
  });
});
