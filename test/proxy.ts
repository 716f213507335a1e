// A loopback TCP proxy for network-fault tests: it forwards to a server, and
// on demand black-holes (stops forwarding both ways and answers nothing, the
// sockets kept open: a network partition as glance-db sees it) or resets
// every connection (TCP RST to the client, the server side closed).
import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

export type ProxyMode = 'forward' | 'blackhole';

export interface Proxy {
  port: number;
  /** The URL with its host and port replaced by the proxy's. */
  url(serverUrl: string): string;
  blackhole(): void;
  /** Resets every open connection (new ones are still forwarded). */
  reset(): void;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

export async function startProxy(host: string, port: number): Promise<Proxy> {
  let mode: ProxyMode = 'forward';
  let count = 0;
  const pairs = new Set<[Socket, Socket]>();
  const held = new Set<Socket>();
  const server: Server = createServer((client) => {
    count++;
    client.on('error', () => {});
    if (mode === 'blackhole') {
      // Accepted by the kernel, then never answered.
      client.pause();
      held.add(client);
      return;
    }
    const upstream = new Socket();
    upstream.on('error', () => {});
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    upstream.connect(port, host, () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', () => mode === 'forward' && drop());
    upstream.on('close', () => mode === 'forward' && drop());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const proxyPort = (server.address() as AddressInfo).port;
  return {
    port: proxyPort,
    url: (serverUrl) => serverUrl.replace(/@[^/@]*\//, `@127.0.0.1:${proxyPort}/`),
    blackhole() {
      mode = 'blackhole';
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    reset() {
      for (const pair of [...pairs]) {
        pairs.delete(pair);
        pair[0].resetAndDestroy();
        pair[1].destroy();
      }
    },
    accepted: () => count,
    async close() {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      for (const s of held) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
