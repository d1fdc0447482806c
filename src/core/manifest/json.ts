import { KbackupError } from '../errors.js';
import { manifestSchema, type Manifest } from './schema.js';

/** JSON with bigint written as decimal strings: int64 offsets and timestamps survive exactly. */
export function stringifyWithBigInt(value: unknown, indent = 2): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), indent) + '\n'
  );
}

export function serializeManifest(manifest: Manifest): string {
  // Validate before writing: a manifest that would not read back must never reach the disk.
  manifestSchema.parse(manifest);
  return stringifyWithBigInt(manifest);
}

export function parseManifest(text: string, path: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new KbackupError('MANIFEST_INVALID', `manifest ${path} is not valid JSON`, {
      cause: error,
      hint: 'The file is damaged; this backup cannot be trusted. Run `kbackup verify` on other backups.',
    });
  }
  const result = manifestSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new KbackupError('MANIFEST_INVALID', `manifest ${path} is invalid: ${issues}`, {
      hint: 'The manifest was damaged or written by an incompatible version of kbackup.',
    });
  }
  return result.data;
}
