import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { KbackupError } from '../../../src/core/errors.js';
import { parseListenAddress, serveMetrics } from '../../../src/cli/metrics-server.js';

describe('parseListenAddress', () => {
  it.each([
    ['9464', { host: '0.0.0.0', port: 9464 }],
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
  ])('%s', (text, expected) => {
    expect(parseListenAddress('--metrics-port', text)).toEqual(expected);
  });

  it.each(['', 'abc', '70000', 'host:', ':9464', '1.2.3.4:port'])('rejects "%s" as a usage error', (text) => {
    expect(() => parseListenAddress('--metrics-port', text)).toThrow(KbackupError);
    try {
      parseListenAddress('--metrics-port', text);
    } catch (error) {
      expect((error as KbackupError).code).toBe('USAGE');
      expect((error as KbackupError).message).toContain('--metrics-port');
    }
  });
});

describe('serveMetrics', () => {
  it('serves the current text on GET /metrics and 404 elsewhere, until closed', async () => {
    let scrapes = 0;
    const endpoint = await serveMetrics('--metrics-port', { host: '127.0.0.1', port: 0 }, () => {
      scrapes++;
      return `kbackup_test ${scrapes}\n`;
    });
    const url = `http://${endpoint.address}`;
    const first = await fetch(`${url}/metrics`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(await first.text()).toBe('kbackup_test 1\n');
    expect(await (await fetch(`${url}/metrics?x=1`)).text()).toBe('kbackup_test 2\n');
    expect((await fetch(`${url}/`)).status).toBe(404);
    await endpoint.close();
    await expect(fetch(`${url}/metrics`)).rejects.toThrow();
  });

  it('names the address when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const address = blocker.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      await expect(serveMetrics('--metrics-port', { host: '127.0.0.1', port }, () => '')).rejects.toThrow(
        `--metrics-port: cannot listen on 127.0.0.1:${port}: EADDRINUSE`,
      );
    } finally {
      blocker.close();
    }
  });
});
