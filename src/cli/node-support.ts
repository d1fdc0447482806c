/**
 * The Node.js versions kbackup runs on, checked by bin/kbackup before the CLI is loaded. On an older Node
 * the CLI's first imports fail with a stack trace (node:zlib has no zstd before 22.15, and the Kafka client
 * needs 22.22+ or 24.6+), which tells an operator nothing. This module imports nothing, so that it loads
 * on any Node that can run bin/kbackup at all.
 */
export const SUPPORTED_NODE = '22.22+ or 24.6+';

/** Exit code 7 (config): the environment kbackup runs in is invalid (docs/EXIT-CODES.md). */
const EXIT_CONFIG = 7;

/** Whether `version` (process.versions.node, e.g. "24.6.0") is one kbackup supports. */
export function isSupportedNode(version: string): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return (major === 22 && minor >= 22) || (major === 24 && minor >= 6) || major >= 25;
}

export interface Refusal {
  exitCode: number;
  stderr: string;
  /** The --json error document, when the arguments asked for JSON output. */
  stdout?: string;
}

/** What bin/kbackup prints, and exits with, on an unsupported Node; undefined when `version` is supported. */
export function refuseUnsupportedNode(version: string, argv: readonly string[]): Refusal | undefined {
  if (isSupportedNode(version)) return undefined;
  const message = `Node.js ${version} is too old for kbackup, which needs Node.js ${SUPPORTED_NODE}.`;
  const hint =
    'Install Node.js 24 LTS (or 22.22+) and put it first on PATH; `node -v` shows the one that runs.';
  const refusal: Refusal = {
    exitCode: EXIT_CONFIG,
    stderr: `kbackup: error: ${message}\n  hint: ${hint}\n`,
  };
  if (argv.includes('--json')) {
    refusal.stdout = `${JSON.stringify({
      status: 'error',
      error: { code: 'CONFIG', message, hint, canRetry: false, details: { node: version } },
      exitCode: EXIT_CONFIG,
    })}\n`;
  }
  return refusal;
}
