// A local HTTP server streaming one file, for live-relay and fetch tests (127.0.0.1 only).

import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export async function serveFile(file: string, contentType = 'audio/mpeg'): Promise<{ url: string; close(): void }> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': contentType });
    createReadStream(file).pipe(res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/live.mp3`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
