import { open, type FileHandle } from 'node:fs/promises';
import { KbackupError } from '../errors.js';
import { errnoCode } from './fs-errors.js';

/** writev until every byte is on its way: a positional writev may legally write less than asked. */
export async function writeFully(handle: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers.filter((b) => b.length > 0);
  let at = position;
  while (pending.length > 0) {
    const { bytesWritten } = await handle.writev(pending, at);
    if (bytesWritten === 0) throw new KbackupError('DISK', `write made no progress at byte ${at}`);
    at += bytesWritten;
    pending = dropBytes(pending, bytesWritten);
  }
}

function dropBytes(buffers: Buffer[], count: number): Buffer[] {
  let left = count;
  const rest: Buffer[] = [];
  for (const buf of buffers) {
    if (left >= buf.length) {
      left -= buf.length;
    } else {
      rest.push(left > 0 ? buf.subarray(left) : buf);
      left = 0;
    }
  }
  return rest;
}

/** Reads up to `length` bytes at `position`; the result is shorter only at end of file. */
export async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done === length ? buf : buf.subarray(0, done);
}

/**
 * fsyncs a directory so that a rename in it survives a crash. Some filesystems cannot fsync directories
 * and say EINVAL/ENOTSUP; there the rename is as durable as that filesystem makes it.
 */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    const code = errnoCode(error);
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EISDIR') throw error;
  } finally {
    await handle?.close();
  }
}
