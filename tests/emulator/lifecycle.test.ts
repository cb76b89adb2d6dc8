// startEmulator / close: options, ports, and a shutdown that never hangs on open connections.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../../src/emulator/index.ts';

describe('startEmulator', () => {
  it('binds loopback on the requested port and reports the resolved options', async () => {
    const emu = await startEmulator({ port: 0, quiet: true });
    try {
      expect(emu.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(emu.options).toMatchObject({
        host: '127.0.0.1',
        clientId: 'local-client-id',
        clientSecret: 'local-client-secret',
        accessTtl: 86400,
        rotation: 'on_use',
        autoApprove: false,
        scopes: 'read customer:delete customer:create credit_check:create',
        redirectUris: ['urn:ietf:wg:oauth:2.0:oob', 'http://127.0.0.1/callback'],
      });
      expect(emu.options.port).toBe(Number(new URL(emu.url).port));
      expect(emu.options.port).toBeGreaterThan(0);
      expect(Object.isFrozen(emu.options)).toBe(true);
    } finally {
      await emu.close();
    }
  });

  it('rejects invalid options and a port in use', async () => {
    await expect(startEmulator({ port: -1 })).rejects.toThrow(/port/);
    await expect(startEmulator({ port: 1.5 })).rejects.toThrow(/port/);
    await expect(startEmulator({ accessTtl: -5 })).rejects.toThrow(/accessTtl/);
    await expect(startEmulator({ rotation: 'sometimes' as 'on_use' })).rejects.toThrow(/rotation/);
    await expect(startEmulator({ scopes: '  ' })).rejects.toThrow(/scopes/);
    const first = await startEmulator({ port: 0, quiet: true });
    try {
      await expect(startEmulator({ port: first.options.port, quiet: true })).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      await first.close();
    }
  });

  it('closes promptly with keep-alive, half-sent and in-flight requests open', async () => {
    const emu = await startEmulator({ port: 0, quiet: true });
    const port = emu.options.port;
    // A keep-alive connection left idle by fetch.
    expect((await fetch(`${emu.url}/__emulator/health`)).status).toBe(200);
    // A request whose headers never finish, and one stuck in an injected delay.
    const sockets: Socket[] = [];
    await new Promise<void>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.write('POST /oauth/token HTTP/1.1\r\nHost: x\r\n');
        resolve();
      });
      s.on('error', () => {});
      sockets.push(s);
    });
    emu.setFaults({ token: { delayMs: 60_000 } });
    const stuck = fetch(`${emu.url}/oauth/token`, { method: 'POST', body: 'grant_type=x' }).catch(
      (e: unknown) => e,
    );
    await new Promise((r) => setTimeout(r, 50));
    const start = performance.now();
    await emu.close();
    expect(performance.now() - start).toBeLessThan(1000);
    expect(await stuck).toBeInstanceOf(TypeError);
    await expect(fetch(`${emu.url}/__emulator/health`)).rejects.toThrow(TypeError);
    for (const s of sockets) s.destroy();
    // Closing twice is harmless.
    await emu.close();
  });
});
