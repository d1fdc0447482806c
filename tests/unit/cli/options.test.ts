import { describe, expect, it } from 'vitest';
import { configPathFrom } from '../../../src/cli/options.js';

describe('configPathFrom', () => {
  it('reads --config among the global options only', () => {
    expect(configPathFrom(['--json', '--config', 'k.yaml', 'backup'], {})).toBe('k.yaml');
    expect(configPathFrom(['--config=k.yaml', 'list'], {})).toBe('k.yaml');
    expect(configPathFrom(['--log-level', 'debug', '--config', 'k.yaml', 'list'], {})).toBe('k.yaml');
  });

  it('never mistakes a subcommand flag for the config file, and falls back to KBACKUP_CONFIG', () => {
    expect(configPathFrom(['restore', '--topic-config', 'a=b', '--config', 'x=y'], {})).toBeUndefined();
    expect(configPathFrom(['restore'], { KBACKUP_CONFIG: '/etc/kbackup.yaml' })).toBe('/etc/kbackup.yaml');
  });
});
