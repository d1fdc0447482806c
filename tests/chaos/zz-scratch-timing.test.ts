import { it } from 'vitest';
import { startCluster } from '../support/kafka-harness.js';
it('timing', async () => {
  const sizes = (process.env.SIZES ?? '1,3').split(',').map(Number) as (1 | 3)[];
  for (const nodes of sizes) {
      const t = Date.now();
      const c = await startCluster({ nodes, proxied: process.env.PROXIED === '1' });
      const ready = Date.now() - t;
      await c.stop();
      console.log(`nodes=${nodes} ready=${ready}ms`);
  }
});
