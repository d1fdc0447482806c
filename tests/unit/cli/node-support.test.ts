import { describe, expect, it } from 'vitest';
import { isSupportedNode, refuseUnsupportedNode } from '../../../src/cli/node-support.js';

describe('the supported Node.js versions', () => {
  it.each([
    ['22.22.0', true],
    ['22.30.1', true],
    ['24.6.0', true],
    ['24.21.0', true],
    ['25.0.0', true],
    ['22.21.9', false],
    ['23.11.0', false],
    ['24.5.0', false],
    ['20.20.2', false],
    ['18.0.0', false],
  ])('Node %s supported: %s', (version, supported) => {
    expect(isSupportedNode(version)).toBe(supported);
  });
});

describe('refusing an unsupported Node', () => {
  it('lets a supported Node through', () => {
    expect(refuseUnsupportedNode('24.6.0', ['--json', 'list'])).toBeUndefined();
  });

  it('exits 7 with the version found and the versions needed, without JSON unless asked', () => {
    const refusal = refuseUnsupportedNode('20.20.2', ['list', '--repo', '/r']);
    expect(refusal?.exitCode).toBe(7);
    expect(refusal?.stderr).toBe(
      'kbackup: error: Node.js 20.20.2 is too old for kbackup, which needs Node.js 22.22+ or 24.6+.\n' +
        '  hint: Install Node.js 24 LTS (or 22.22+) and put it first on PATH; `node -v` shows the one that runs.\n',
    );
    expect(refusal?.stdout).toBeUndefined();
  });

  it('prints the --json error document that other failures print', () => {
    const refusal = refuseUnsupportedNode('23.1.0', ['--json', 'verify']);
    expect(JSON.parse(refusal?.stdout ?? '')).toEqual({
      status: 'error',
      error: {
        code: 'CONFIG',
        message: 'Node.js 23.1.0 is too old for kbackup, which needs Node.js 22.22+ or 24.6+.',
        hint: 'Install Node.js 24 LTS (or 22.22+) and put it first on PATH; `node -v` shows the one that runs.',
        canRetry: false,
        details: { node: '23.1.0' },
      },
      exitCode: 7,
    });
  });
});
