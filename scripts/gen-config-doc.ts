/**
 * Regenerates docs/CONFIGURATION.md from the built CLI's own --help, so that the reference cannot drift
 * from the flags. `npm run docs`; tests/unit/cli/config-doc.test.ts fails when the file is stale.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const cli = resolve(import.meta.dirname, '../dist/cli/main.js');
export const COMMANDS: string[][] = [
  ['backup'],
  ['restore'],
  ['verify'],
  ['list'],
  ['describe'],
  ['forget'],
  ['prune'],
  ['doctor'],
  ['offsets', 'snapshot'],
  ['offsets', 'reset'],
  ['offsets', 'rollback'],
  ['drain'],
  ['migrate'],
];

export function helpOf(args: string[]): string {
  return execFileSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, COLUMNS: '110' },
  });
}

export function renderConfigDoc(): string {
  const parts = [
    '# Configuration reference',
    '',
    'Generated from `kbackup --help` by `npm run docs`; do not edit by hand. Flags take precedence over',
    'defaults shown here. Sizes accept `64MiB`, `512k`, `1g`; durations `500ms`, `30s`, `10m`; times',
    'ISO-8601 with a zone (`2026-11-22T14:01:59.999Z`) or epoch milliseconds. Topic patterns are exact',
    'names, globs (`orders-*`) or `/regexes/`.',
    '',
    '## Where settings come from',
    '',
    'Every option can be given three ways. Flags win over the environment, and the environment wins over',
    'the configuration file:',
    '',
    '1. the flag, e.g. `--codec lz4`;',
    '2. a `KBACKUP_*` environment variable named after the flag, e.g. `KBACKUP_CODEC=lz4` or',
    '   `KBACKUP_BOOTSTRAP=10.0.0.1:9092` (each flag below lists its variable);',
    '3. the YAML file given with `--config FILE` (or `KBACKUP_CONFIG`).',
    '',
    '```yaml',
    'clusters: # used with --cluster NAME',
    '  prod:',
    '    bootstrap: "10.0.0.1:9093,10.0.0.2:9093"',
    '    tls: { caFile: /etc/kafka/ca.pem, certFile: /etc/kafka/client.pem, keyFile: /etc/kafka/client.key }',
    '    sasl: { mechanism: SCRAM-SHA-512, username: kbackup, passwordEnv: KAFKA_PROD_PASSWORD }',
    'defaults: # options for every command that has them (camelCase flag names)',
    '  repo: /backups',
    'commands: # options for one command ("offsets reset" for subcommands)',
    '  backup: { codec: zstd, topics: "orders,payments-*", consumerGroups: all }',
    '```',
    '',
    'Rules:',
    '',
    '- The file is validated. An unknown key or a bad value exits with code 7 and names the key.',
    '- Secrets never go in the file or in flags. A SASL password comes from an environment variable',
    '  (`passwordEnv`, or `--sasl-password-env`, default `KBACKUP_SASL_PASSWORD`) or from a file',
    '  (`passwordFile`, or `--sasl-password-file`). An OAUTHBEARER token comes from `KBACKUP_SASL_TOKEN`',
    '  or `tokenFile`.',
    '- Secrets never appear in logs or in `--json` output.',
    '- `tls.insecureSkipVerify` / `--tls-insecure-skip-verify` prints a warning on every run, even under',
    '  `--quiet`.',
    '- `migrate` names a cluster per side (`--source-cluster`, `--target-cluster`); its `--tls*` and `--sasl-*`',
    '  flags apply to each side that names none (docs/MIGRATE.md).',
    '- Refused credentials and broker certificates that do not verify exit 7 at once, without retrying',
    '  (docs/EXIT-CODES.md).',
    '',
    '## Permissions (ACLs)',
    '',
    'With an authorizer on the cluster, these ACLs are enough for the principal kbackup connects as:',
    '',
    '- `backup`, `doctor`, `drain`, `offsets snapshot` and the source of `migrate`: DESCRIBE, DESCRIBE_CONFIGS',
    '  and READ on the topics, and DESCRIBE on the consumer groups whose offsets are read (groups it may not',
    '  describe are not seen);',
    '- `restore` and the target of `migrate`, in addition: CREATE on the cluster (or on the target topics) to',
    '  create missing topics, WRITE on the target topics, and READ on the groups whose offsets are committed;',
    '- `offsets reset` and `offsets rollback`: DESCRIBE on the topics, and DESCRIBE and READ on the groups;',
    '  a rollback that deletes commits made since its snapshot also needs DELETE on those groups.',
    '',
    'A missing ACL fails with `not authorized (TOPIC_AUTHORIZATION_FAILED)` (or `CLUSTER_`, `GROUP_`) and',
    'exit 1. `tests/integration/security.test.ts` backs up as a principal that has only DESCRIBE,',
    'DESCRIBE_CONFIGS and READ on topics, and checks that its restore is refused that way.',
    '',
    '## Global options and exit codes',
    '',
    '```',
    helpOf(['--help']).trimEnd(),
    '```',
  ];
  for (const command of COMMANDS) {
    parts.push(
      '',
      `## kbackup ${command.join(' ')}`,
      '',
      '```',
      helpOf([...command, '--help']).trimEnd(),
      '```',
    );
  }
  return parts.join('\n') + '\n';
}

if (process.argv[1] === import.meta.filename) {
  writeFileSync(resolve(import.meta.dirname, '../docs/CONFIGURATION.md'), renderConfigDoc());
}
