import { createServer, type Server } from 'node:http';
import { KbackupError } from '../core/errors.js';

export interface MetricsEndpoint {
  /** Where it listens, e.g. 0.0.0.0:9464 (the real port when 0 was asked for). */
  readonly address: string;
  close(): Promise<void>;
}

/** `[host:]port`: a bare port listens on every interface, like node_exporter. */
export function parseListenAddress(flag: string, text: string): { host: string; port: number } {
  const match = /^(?:(\[[0-9a-fA-F:]+\]|[^\s:[\]]+):)?(\d{1,5})$/.exec(text.trim());
  const port = Number(match?.[2] ?? NaN);
  if (!match || port > 65535) {
    throw new KbackupError('USAGE', `${flag}: "${text}" is not [host:]port (port 0-65535)`, {
      hint: `e.g. ${flag} 9464, or ${flag} 127.0.0.1:9464`,
    });
  }
  return { host: (match[1] ?? '0.0.0.0').replace(/^\[|\]$/g, ''), port };
}

/**
 * Serves GET /metrics (Prometheus text) for the length of a run, so that long backups, restores and
 * migrations can be watched. Every other path is 404; the server never keeps the process alive.
 */
export async function serveMetrics(
  flag: string,
  listen: { host: string; port: number },
  render: () => string,
): Promise<MetricsEndpoint> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' || path !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('kbackup serves /metrics only\n');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(render());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new KbackupError(
          'USAGE',
          `${flag}: cannot listen on ${listen.host}:${listen.port}: ${error.code ?? error.message}`,
          {
            hint: error.code === 'EADDRINUSE' ? 'Another process uses that port; pick another.' : undefined,
          },
        ),
      );
    });
    server.listen(listen.port, listen.host, resolve);
  });
  server.unref();
  const bound = server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : listen.port;
  return {
    address: `${listen.host.includes(':') ? `[${listen.host}]` : listen.host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
