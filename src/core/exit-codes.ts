/**
 * The exit codes kbackup returns. docs/EXIT-CODES.md and `kbackup --help` print this table; tests assert it.
 * Numbers are stable: scripts and CI gates depend on them.
 */
export enum ExitCode {
  Ok = 0,
  Failure = 1,
  Usage = 2,
  Partial = 3,
  VerifyFailed = 4,
  Corrupt = 5,
  Connection = 6,
  Config = 7,
  Io = 8,
  Locked = 9,
  DrainTimeout = 10,
  DrainStuck = 11,
  Interrupted = 130,
  Terminated = 143,
}

export const EXIT_CODE_TABLE: readonly { code: ExitCode; name: string; meaning: string }[] = [
  { code: ExitCode.Ok, name: 'ok', meaning: 'success' },
  { code: ExitCode.Failure, name: 'failure', meaning: 'unexpected or non-retriable failure' },
  { code: ExitCode.Usage, name: 'usage', meaning: 'bad flag, unknown topic or backup, invalid request' },
  { code: ExitCode.Partial, name: 'partial', meaning: 'some items failed, the rest succeeded (see output)' },
  {
    code: ExitCode.VerifyFailed,
    name: 'verify-failed',
    meaning: 'verify found missing, extra or damaged data',
  },
  {
    code: ExitCode.Corrupt,
    name: 'corrupt',
    meaning: 'a segment or manifest is corrupted; nothing past it was used',
  },
  { code: ExitCode.Connection, name: 'connection', meaning: 'brokers unreachable or timed out (retriable)' },
  {
    code: ExitCode.Config,
    name: 'config',
    meaning: 'configuration is invalid, or the cluster refused the credentials or TLS certificate',
  },
  { code: ExitCode.Io, name: 'io', meaning: 'disk full, permission denied or other filesystem error' },
  { code: ExitCode.Locked, name: 'locked', meaning: 'another kbackup process holds the repository lock' },
  { code: ExitCode.DrainTimeout, name: 'drain-timeout', meaning: 'drain: groups did not catch up in time' },
  {
    code: ExitCode.DrainStuck,
    name: 'drain-stuck',
    meaning: 'drain: a group is stuck (STALL, STOP or REWIND)',
  },
  {
    code: ExitCode.Interrupted,
    name: 'interrupted',
    meaning: 'stopped by SIGINT; progress saved, re-run to resume',
  },
  {
    code: ExitCode.Terminated,
    name: 'terminated',
    meaning: 'stopped by SIGTERM; progress saved, re-run to resume',
  },
];
