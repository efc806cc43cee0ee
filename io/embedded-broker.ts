import net from 'node:net';
import { Aedes, type AedesOptions } from 'aedes';

export interface EmbeddedBroker {
  port: number;
  /** mqtt://127.0.0.1:<port> */
  url: string;
  /** Every listener's port: [port, ...extra listeners]. */
  ports: number[];
  broker: Aedes;
  stop(): Promise<void>;
}

/**
 * An in-process MQTT broker (Aedes) on a free loopback port: the demo's broker and the tests'
 * fast one. Port 1883 may belong to a system Mosquitto, so it never assumes a port.
 */
export async function startEmbeddedBroker(
  opts: AedesOptions = {},
  listen: { extraListeners?: number; onConnection?: (socket: net.Socket, listener: number) => void } = {},
): Promise<EmbeddedBroker> {
  // aedes 1.x: the constructor is deprecated; createBroker() also sets up persistence.
  const broker = await Aedes.createBroker(opts);
  const sockets = new Set<net.Socket>();
  const servers: net.Server[] = [];
  for (let i = 0; i <= (listen.extraListeners ?? 0); i++) {
    const server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      listen.onConnection?.(socket, i);
      broker.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    servers.push(server);
  }
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  let stopped = false;
  return {
    port: ports[0]!,
    url: `mqtt://127.0.0.1:${ports[0]}`,
    ports,
    broker,
    async stop() {
      if (stopped) return;
      stopped = true;
      // server.close() waits for open connections: drop clients first.
      for (const s of sockets) s.destroy();
      await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
