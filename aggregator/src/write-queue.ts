/**
 * Writes batches one after another, in order, so that each table receives its rows in the
 * order they were read and an offset is committed only after every earlier batch. Holds at
 * most `maxPending` batches before it reports itself full (the reader then pauses), and
 * reports room again once half of them are written.
 */
export class WriteQueue<B> {
  private readonly queue: B[] = [];
  private writing = false;
  private inFlight = 0;
  private full = false;
  private failure: unknown;
  private waiters: { resolve: () => void; reject: (error: unknown) => void }[] = [];

  constructor(
    private readonly write: (batch: B) => Promise<void>,
    private readonly options: { maxPending: number; onFullChange: (full: boolean) => void },
  ) {
    if (!Number.isInteger(options.maxPending) || options.maxPending < 1) {
      throw new Error(`maxPending must be a positive integer, got ${options.maxPending}`);
    }
  }

  /** Batches queued or being written. */
  get pending(): number {
    return this.queue.length + this.inFlight;
  }

  get isFull(): boolean {
    return this.full;
  }

  push(batch: B): void {
    if (this.failure !== undefined)
      throw new Error('the write queue stopped after a failed write', { cause: this.failure });
    this.queue.push(batch);
    this.updateFull();
    void this.drain();
  }

  /** Resolves once every batch pushed so far is written; rejects if a write failed. */
  idle(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async drain(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    try {
      for (let batch = this.queue.shift(); batch !== undefined; batch = this.queue.shift()) {
        this.inFlight = 1;
        await this.write(batch);
        this.inFlight = 0;
        this.updateFull();
      }
    } catch (error) {
      this.failure = error;
      this.queue.length = 0;
      this.inFlight = 0;
    } finally {
      this.writing = false;
    }
    this.updateFull();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      if (this.failure === undefined) waiter.resolve();
      else waiter.reject(this.failure);
    }
  }

  private updateFull(): void {
    const full = this.full
      ? this.pending > Math.floor(this.options.maxPending / 2)
      : this.pending >= this.options.maxPending;
    if (full !== this.full) {
      this.full = full;
      this.options.onFullChange(full);
    }
  }
}
