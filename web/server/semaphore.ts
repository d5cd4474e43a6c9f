/** Too much work of one kind is running and waiting already; the caller should retry later. */
export class BusyError extends Error {
  override name = 'BusyError';
}

/**
 * At most `limit` tasks at once; up to `maxQueue` more wait their turn in arrival order,
 * and past that `run` refuses at once with BusyError rather than letting waiters pile up.
 */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly limit: number,
    readonly maxQueue: number,
  ) {}

  /** Tasks running now. */
  get running(): number {
    return this.active;
  }

  /** Tasks waiting for a turn. */
  get queued(): number {
    return this.waiting.length;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      if (this.waiting.length >= this.maxQueue) throw new BusyError('too many requests of this kind at once');
      // The slot is handed over by `release`, so `active` already counts this task.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}
