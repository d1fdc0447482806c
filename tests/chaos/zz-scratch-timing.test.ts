import { expect, it } from 'vitest';
import { startCluster } from '../support/kafka-harness.js';
import { createTopic, produceRecords, readAllRecords, getMetadata } from '../support/kafka-helpers.js';
it('proxy', async () => {
  const c = await startCluster({ nodes: Number(process.env.N ?? 1) as 1 | 3, proxied: true, name: 'scratch-proxy' });
  try {
    console.log(c.bootstrap, c.nodes.map((n) => [n.port, n.brokerPort]));
    await createTopic(c.bootstrap, 't1', { partitions: 1 });
    await produceRecords(c.bootstrap, 't1', [{ partition: 0, key: null, value: Buffer.from('a') }]);
    const md = await getMetadata(c.bootstrap);
    console.log([...md.brokers.values()]);
    console.log('conns', [...c.proxies!.byNode.values()].map((p) => p.connectionCount));
    c.proxies!.stall();
    const t = Date.now();
    const r = await getMetadata(c.bootstrap).then(() => 'ok', (e: unknown) => String(e));
    console.log('stalled metadata:', r.slice(0, 200), Date.now() - t);
    c.proxies!.heal();
    expect((await readAllRecords(c.bootstrap, 't1'))[0]?.length).toBe(1);
    c.proxies!.dropAll();
    expect((await readAllRecords(c.bootstrap, 't1'))[0]?.length).toBe(1);
    c.pauseNode(1);
    const t2 = Date.now();
    const r2 = await getMetadata(c.bootstrap).then(() => 'ok', (e: unknown) => String(e));
    console.log('paused metadata:', r2.slice(0, 200), Date.now() - t2);
    c.resumeNode(1);
    await c.restartNode(1);
    expect((await readAllRecords(c.bootstrap, 't1'))[0]?.length).toBe(1);
  } finally {
    await c.stop();
  }
});
