import { readFile } from 'node:fs/promises';
import { toFsError } from './fs-errors.js';

/** The text of a file, or undefined when it does not exist; any other error names the path. */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw toFsError(error, 'reading', path);
  }
}
