// A forward proxy for tests, the test's peer like the fault proxy: an HTTP proxy on 127.0.0.1 that tunnels
// `CONNECT host:port` (RFC 9110 §9.3.6) to the upstream the test names for that authority, so that a name no
// DNS knows (`alarmbox.test:443`) reaches a local server. It records every authority asked for and can demand
// `Proxy-Authorization` (answers 407 otherwise, RFC 9110 §15.5.8).
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';

export interface ForwardProxyOptions {
  /** `host:port` as the client asks for it → where to connect. Anything else is answered 502. */
  readonly routes: Readonly<Record<string, { readonly host: string; readonly port: number }>>;
  /** When set, `Proxy-Authorization: Basic base64(user:password)` must match or the answer is 407. */
  readonly credentials?: { readonly user: string; readonly password: string };
}

export class ForwardProxy {
  readonly #server: Server;
  readonly #options: ForwardProxyOptions;
  readonly #sockets = new Set<Socket>();
  /** Every CONNECT authority (and absolute-form request URL) received, in order, refused ones included. */
  readonly requested: string[] = [];
  /** The Proxy-Authorization header of each request (undefined when absent), for assertions. */
  readonly authorizations: (string | undefined)[] = [];

  private constructor(options: ForwardProxyOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => {
      // A plain-HTTP request through the proxy: recorded, never forwarded (AlarmBox is HTTPS only).
      this.requested.push(req.url ?? '');
      res.writeHead(502, { 'content-type': 'text/plain' }).end('test proxy forwards CONNECT only\n');
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) =>
      this.#tunnel(req, client, head),
    );
  }

  static async start(options: ForwardProxyOptions): Promise<ForwardProxy> {
    const proxy = new ForwardProxy(options);
    proxy.#server.listen(0, '127.0.0.1');
    await once(proxy.#server, 'listening');
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  /** `http://127.0.0.1:<port>`, with `user:password@` when given. */
  url(userinfo?: string): string {
    return `http://${userinfo === undefined ? '' : `${userinfo}@`}127.0.0.1:${this.port}`;
  }

  #tunnel(req: IncomingMessage, client: Socket, head: Buffer): void {
    const authority = req.url ?? '';
    this.requested.push(authority);
    const auth = req.headers['proxy-authorization'];
    this.authorizations.push(auth);
    client.on('error', () => client.destroy());
    const creds = this.#options.credentials;
    if (creds !== undefined) {
      const expected = `Basic ${Buffer.from(`${creds.user}:${creds.password}`).toString('base64')}`;
      if (auth !== expected) {
        client.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
        );
        return;
      }
    }
    const upstream = this.#options.routes[authority];
    if (upstream === undefined) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const server = connect(upstream.port, upstream.host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) server.write(head);
      server.pipe(client);
      client.pipe(server);
    });
    this.#sockets.add(server);
    server.once('close', () => {
      this.#sockets.delete(server);
      client.destroy();
    });
    server.on('error', () => client.destroy());
    client.once('close', () => server.destroy());
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
