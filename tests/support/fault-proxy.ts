// A TCP proxy for fault tests: listens on 127.0.0.1 and forwards to a real server (a database, the emulator),
// and on demand breaks the path the way networks do.
//   pass     forward both ways
//   cut      reset every open connection (RST) and reset new ones as they arrive
//   silence  stop forwarding, keep every socket open: the server seems to vanish without a word (a dead
//            host, a dropped VPN, a firewall that starts dropping packets); new connections are accepted
//            and held. Back to pass, what was held flows on, as TCP would deliver it after a partition.
//   slow     forward each chunk after `delayMs`, order kept
import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';

export type FaultMode = 'pass' | 'cut' | 'silence' | 'slow';

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

export class FaultProxy {
  readonly #server: Server;
  readonly #upstream: Upstream;
  readonly #links = new Set<Link>();
  #mode: FaultMode = 'pass';
  #delayMs = 0;
  /** Connections accepted so far (to check that a client reconnected). */
  accepted = 0;

  private constructor(upstream: Upstream) {
    this.#upstream = upstream;
    this.#server = createServer({ pauseOnConnect: true }, (client) => this.#accept(client));
  }

  static async start(upstream: Upstream): Promise<FaultProxy> {
    const proxy = new FaultProxy(upstream);
    proxy.#server.listen(0, '127.0.0.1');
    await once(proxy.#server, 'listening');
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get mode(): FaultMode {
    return this.#mode;
  }

  /** `url` with its host and port replaced by the proxy's. */
  rewrite(url: string): string {
    const parsed = new URL(url);
    parsed.hostname = '127.0.0.1';
    parsed.port = String(this.port);
    return parsed.toString();
  }

  setMode(mode: FaultMode, delayMs = 0): void {
    this.#mode = mode;
    this.#delayMs = delayMs;
    for (const link of this.#links) {
      if (mode === 'cut') link.reset();
      else if (mode === 'silence') link.hold();
      else link.flow();
    }
  }

  async close(): Promise<void> {
    for (const link of this.#links) link.reset();
    this.#server.close();
    await once(this.#server, 'close');
  }

  #accept(client: Socket): void {
    this.accepted++;
    client.on('error', () => {});
    if (this.#mode === 'cut') {
      client.resetAndDestroy();
      return;
    }
    const link = new Link(client, this.#upstream, () => this.#delayMs);
    this.#links.add(link);
    link.onEnd = () => this.#links.delete(link);
    if (this.#mode !== 'silence') link.flow();
  }
}

/** One client connection and its upstream connection (opened when the link first flows). */
class Link {
  readonly #client: Socket;
  readonly #target: Upstream;
  readonly #delay: () => number;
  #server: Socket | undefined;
  #held = true;
  #ended = false;
  onEnd: () => void = () => {};

  constructor(client: Socket, target: Upstream, delay: () => number) {
    this.#client = client;
    this.#target = target;
    this.#delay = delay;
    client.on('close', () => this.#end());
  }

  flow(): void {
    if (this.#ended) return;
    this.#held = false;
    if (this.#server === undefined) {
      const server = connect(this.#target.port, this.#target.host);
      server.on('error', () => {});
      server.on('close', () => this.#end());
      this.#server = server;
      forward(this.#client, server, this.#delay, () => this.#held);
      forward(server, this.#client, this.#delay, () => this.#held);
    }
    this.#client.resume();
    this.#server.resume();
  }

  hold(): void {
    this.#held = true;
    this.#client.pause();
    this.#server?.pause();
  }

  reset(): void {
    if (!this.#client.destroyed) this.#client.resetAndDestroy();
    if (this.#server !== undefined && !this.#server.destroyed) this.#server.resetAndDestroy();
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#client.destroy();
    this.#server?.destroy();
    this.onEnd();
  }
}

/** Copies `from` to `to`, each chunk after the current delay, in order; never while held. */
function forward(from: Socket, to: Socket, delay: () => number, held: () => boolean): void {
  let chain = Promise.resolve();
  from.on('data', (chunk: Buffer) => {
    const ms = delay();
    chain = chain.then(async () => {
      if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
      // Held while the chunk waited: wait for the flow to come back, as the network would.
      while (held() && !to.destroyed) await new Promise((resolve) => setTimeout(resolve, 20));
      if (!to.destroyed) to.write(chunk);
    });
  });
  from.on('end', () => {
    void chain.then(() => to.end());
  });
}
