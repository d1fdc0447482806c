import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** One client connection and its upstream twin. */
interface Pair {
  client: Socket;
  upstream: Socket;
}

/**
 * A TCP forwarder from 127.0.0.1:listenPort to 127.0.0.1:targetPort with fault injection, used to cut a
 * client off from a broker without touching the broker (network-partition tests).
 */
export class TcpProxy {
  readonly targetPort: number;
  #server: Server;
  #pairs = new Set<Pair>();
  #stalled = false;
  #answersHeld = false;
  #bytesToTarget = 0;
  #closed = false;
  /** One-way delay added to every chunk in both directions (a distant broker); 0 forwards at once. */
  delayMs = 0;

  private constructor(server: Server, targetPort: number) {
    this.#server = server;
    this.targetPort = targetPort;
    server.on('connection', (client) => {
      this.#accept(client);
    });
  }

  /** Listens on `listenPort` (0 = any free port) and forwards to `targetPort`. */
  static async start(targetPort: number, listenPort = 0): Promise<TcpProxy> {
    const server = createServer({ noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, '127.0.0.1', () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    return new TcpProxy(server, targetPort);
  }

  get listenPort(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy is not listening');
    return address.port;
  }

  /** Connections currently open through the proxy. */
  get connectionCount(): number {
    return this.#pairs.size;
  }

  get stalled(): boolean {
    return this.#stalled;
  }

  #accept(client: Socket): void {
    if (this.#closed) {
      client.destroy();
      return;
    }
    client.setNoDelay(true);
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort, noDelay: true });
    const pair: Pair = { client, upstream };
    this.#pairs.add(pair);
    // Manual forwarding rather than pipe(): pause()/resume() must fully control the flow for stall().
    const forward = (from: Socket, to: Socket, mayFlow: () => boolean, count: (n: number) => void): void => {
      from.on('data', (chunk: Buffer) => {
        count(chunk.length);
        if (this.delayMs > 0) {
          // Timers of one duration fire in the order they were set: the byte stream keeps its order.
          setTimeout(() => to.write(chunk), this.delayMs);
          return;
        }
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => {
            if (mayFlow()) from.resume();
          });
        }
      });
      from.on('end', () => to.end());
    };
    forward(
      client,
      upstream,
      () => !this.#stalled,
      (n) => (this.#bytesToTarget += n),
    );
    forward(
      upstream,
      client,
      () => !this.#stalled && !this.#answersHeld,
      () => undefined,
    );
    const teardown = (): void => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', teardown);
    upstream.on('error', teardown);
    client.on('close', teardown);
    upstream.on('close', teardown);
    if (this.#stalled) {
      client.pause();
      upstream.pause();
    }
    if (this.#answersHeld) upstream.pause();
  }

  /** Bytes received from clients so far, whether or not already passed on. */
  get bytesToTarget(): number {
    return this.#bytesToTarget;
  }

  /**
   * Keeps the target's bytes (the broker's answers) from the clients while requests still flow to the
   * target: shows how many requests a client sends before it has an answer.
   */
  holdAnswers(): void {
    this.#answersHeld = true;
    for (const { upstream } of this.#pairs) upstream.pause();
  }

  /** Passes on the answers held by holdAnswers() and what follows. */
  releaseAnswers(): void {
    this.#answersHeld = false;
    if (this.#stalled) return;
    for (const { upstream } of this.#pairs) upstream.resume();
  }

  /** Destroys every open connection (both sides); new connections are still accepted. */
  dropAll(): void {
    for (const { client, upstream } of [...this.#pairs]) {
      client.destroy();
      upstream.destroy();
    }
    this.#pairs.clear();
  }

  /**
   * Stops moving bytes in both directions while keeping every socket open, like a black-holed link: requests
   * time out instead of failing fast. New connections are accepted but carry nothing until heal().
   */
  stall(): void {
    this.#stalled = true;
    for (const { client, upstream } of this.#pairs) {
      client.pause();
      upstream.pause();
    }
  }

  /** Resumes forwarding after stall(). */
  heal(): void {
    this.#stalled = false;
    for (const { client, upstream } of this.#pairs) {
      client.resume();
      if (!this.#answersHeld) upstream.resume();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.dropAll();
    await new Promise<void>((resolve) => {
      this.#server.close(() => {
        resolve();
      });
    });
  }
}

/** Fault controls over the proxies of a whole cluster, plus per-node access. */
export class ProxyGroup {
  readonly byNode: ReadonlyMap<number, TcpProxy>;

  constructor(byNode: Map<number, TcpProxy>) {
    this.byNode = byNode;
  }

  node(nodeId: number): TcpProxy {
    const proxy = this.byNode.get(nodeId);
    if (!proxy) throw new Error(`no proxy for node ${nodeId}`);
    return proxy;
  }

  dropAll(): void {
    for (const p of this.byNode.values()) p.dropAll();
  }

  stall(): void {
    for (const p of this.byNode.values()) p.stall();
  }

  heal(): void {
    for (const p of this.byNode.values()) p.heal();
  }

  async close(): Promise<void> {
    await Promise.all([...this.byNode.values()].map((p) => p.close()));
  }
}
