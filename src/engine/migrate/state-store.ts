import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringifyWithBigInt } from '../../core/manifest/json.js';
import { migrateStateSchema, parseMigrateState, type MigrateState } from '../../core/migrate/state.js';
import { writeFileAtomic } from '../../storage/atomic.js';
import { toFsError } from '../../storage/fs-errors.js';
import { readTextIfExists } from '../../storage/read.js';
import { FileLock } from '../../storage/lock.js';

export const DEFAULT_STATE_DIR = '.kbackup-migrate';

export function stateFilePath(stateDir: string, migrationId: string): string {
  return resolve(stateDir, `${migrationId}.json`);
}

export async function readMigrateState(path: string): Promise<MigrateState | undefined> {
  const text = await readTextIfExists(path);
  return text === undefined ? undefined : parseMigrateState(text, path);
}

/**
 * The state file of one migration, held under an exclusive lock (two runs of the same migration writing
 * into the same target partitions would duplicate records). Writes are atomic and one at a time; `save()`
 * coalesces requests so that partitions acknowledging batches concurrently cause at most one write in
 * flight and one queued, with the latest content.
 */
export class MigrateStateStore {
  #writing: Promise<void> = Promise.resolve();
  #queued: Promise<void> | undefined;

  private constructor(
    readonly path: string,
    private readonly lock: FileLock,
  ) {}

  static async open(stateDir: string, migrationId: string): Promise<MigrateStateStore> {
    const dir = resolve(stateDir);
    try {
      await mkdir(dir, { recursive: true });
    } catch (error) {
      throw toFsError(error, 'creating', dir);
    }
    const lock = await FileLock.acquire(join(dir, `${migrationId}.lock`), 'migrate');
    return new MigrateStateStore(stateFilePath(dir, migrationId), lock);
  }

  read(): Promise<MigrateState | undefined> {
    return readMigrateState(this.path);
  }

  /** Writes the state as it is when the write starts; resolves once a write that began after the call is done. */
  save(state: MigrateState): Promise<void> {
    if (this.#queued) return this.#queued;
    const queued = this.#writing.then(async () => {
      this.#queued = undefined;
      state.updatedAt = new Date().toISOString();
      // Validate before writing: a state that would not read back must never reach the disk.
      migrateStateSchema.parse(state);
      await writeFileAtomic(this.path, stringifyWithBigInt(state));
    });
    this.#queued = queued;
    this.#writing = queued.catch(() => undefined);
    return queued;
  }

  async release(): Promise<void> {
    await this.#writing;
    await this.lock.release();
  }
}

/**
 * Saves the state in the background at most every `intervalMs` while something changed. The target's end
 * offset is the source of truth on resume, so the interval only bounds how many records a resume has to
 * match by reading the target back, never whether records are sent twice.
 */
export class PeriodicSaver {
  #dirty = false;
  #timer: NodeJS.Timeout | undefined;
  #failure: Error | undefined;

  constructor(
    private readonly store: MigrateStateStore,
    private readonly state: MigrateState,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.#timer = setInterval(() => {
      if (!this.#dirty) return;
      this.#dirty = false;
      this.store.save(this.state).catch((error: unknown) => {
        this.#failure ??= error instanceof Error ? error : new Error(String(error));
      });
    }, this.intervalMs);
  }

  changed(): void {
    if (this.#failure) throw this.#failure;
    this.#dirty = true;
  }

  async stop(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#dirty = false;
    await this.store.save(this.state);
  }
}
