import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderConfigDoc } from '../../../scripts/gen-config-doc.js';

// Needs the built CLI (npm test builds first). Keeps docs/CONFIGURATION.md true to the flags.
describe('docs/CONFIGURATION.md', () => {
  it('matches the CLI help (regenerate with npm run docs)', () => {
    const onDisk = readFileSync(resolve(import.meta.dirname, '../../../docs/CONFIGURATION.md'), 'utf8');
    expect(onDisk).toBe(renderConfigDoc());
  });
});
