import { Option, type Command } from 'commander';
import type { ConfigFile } from '../config/schema.js';

/** The connection flags added to every command that talks to Kafka (it has --bootstrap). */
export function addConnectionOptions(command: Command): void {
  command.option('--cluster <name>', 'named cluster from the configuration file (bootstrap, TLS, SASL)');
  addSecurityOptions(command);
}

/**
 * The TLS and SASL flags. migrate takes them without --cluster: it names a cluster per side instead
 * (--source-cluster, --target-cluster), and applies these to each side that names none.
 */
export function addSecurityOptions(command: Command): void {
  command
    .option('--tls', 'connect with TLS')
    .option('--tls-ca-file <path>', 'PEM file of the CA that signed the brokers’ certificates')
    .option('--tls-cert-file <path>', 'PEM client certificate (mutual TLS)')
    .option('--tls-key-file <path>', 'PEM client key (mutual TLS)')
    .option('--tls-server-name <name>', 'server name to verify in the brokers’ certificates')
    .option('--tls-insecure-skip-verify', 'accept any broker certificate (dangerous; warns on every run)')
    .option('--sasl-mechanism <mechanism>', 'PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER')
    .option('--sasl-username <name>', 'SASL username')
    .option(
      '--sasl-password-env <VAR>',
      'environment variable holding the SASL password (default KBACKUP_SASL_PASSWORD)',
    )
    .option('--sasl-password-file <path>', 'file holding the SASL password (e.g. a mounted secret)');
}

/** Every command in the tree, with its path ("offsets reset"). */
export function allCommands(root: Command): { path: string; command: Command }[] {
  const out: { path: string; command: Command }[] = [];
  const visit = (command: Command, prefix: string[]): void => {
    for (const sub of command.commands) {
      const path = [...prefix, sub.name()];
      out.push({ path: path.join(' '), command: sub });
      visit(sub, path);
    }
  };
  visit(root, []);
  return out;
}

const envName = (option: Option): string =>
  `KBACKUP_${option
    .attributeName()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toUpperCase()}`;

/**
 * Gives every option its KBACKUP_* environment variable, and the configuration file's value (if any) as
 * its default. Commander then applies flag > environment > default, which is exactly the documented
 * precedence: flags win over the environment, and the environment wins over the file.
 */
export function layerEnvironmentAndConfig(root: Command, config: ConfigFile | undefined): void {
  const apply = (path: string, command: Command): void => {
    for (const option of command.options as Option[]) {
      const name = option.attributeName();
      if (name === 'version' || option.negate) continue;
      const isList = Array.isArray(option.defaultValue);
      if (option.envVar === undefined) {
        option.env(envName(option));
        // Commander wires the environment only for options that had .env() when they were added.
        command.on(`optionEnv:${option.name()}`, (raw?: string) => {
          const value =
            raw === undefined ? true : option.parseArg ? option.parseArg(raw, isList ? [] : undefined) : raw;
          command.setOptionValueWithSource(name, value, 'env');
        });
      }
      const fromFile = config?.commands[path]?.[name] ?? config?.defaults[name];
      if (fromFile === undefined) continue;
      const value = isList
        ? Array.isArray(fromFile)
          ? fromFile
          : [String(fromFile)]
        : typeof fromFile === 'boolean'
          ? fromFile
          : String(fromFile);
      // Commander copies defaults into the command when an option is added, so set both.
      option.default(value);
      command.setOptionValueWithSource(name, value, 'default');
    }
  };
  apply('', root);
  for (const { path, command } of allCommands(root)) apply(path, command);
}

/** The --config value, read before commander parses (its values become option defaults). */
export function configPathFrom(argv: readonly string[], env: NodeJS.ProcessEnv): string | undefined {
  // Only global options (before the command name) are looked at: subcommands may have their own flags.
  const valued = new Set(['--config', '--log-level', '--retry-deadline', '--metrics-file']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('-')) break;
    if (arg === '--config') return argv[i + 1];
    if (arg.startsWith('--config=')) return arg.slice('--config='.length);
    if (valued.has(arg)) i++;
  }
  return env.KBACKUP_CONFIG;
}
