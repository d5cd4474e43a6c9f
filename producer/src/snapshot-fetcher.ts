import { setTimeout as sleep } from 'node:timers/promises';
import { depthSnapshotBodySchema, type PriceLevel } from '@candleflow/common/binance-events';
import type { Logger } from '@candleflow/common/logger';
import { backoffDelay, type BackoffOptions } from '@candleflow/common/retry';
import type { BinanceRest } from './binance-rest.js';
import { snapshotWeight, type RequestWeightBudget } from './request-weight-budget.js';

export interface DepthSnapshot {
  symbol: string;
  lastUpdateId: number;
  bids: PriceLevel[];
  asks: PriceLevel[];
  /** When the answer arrived (ms). */
  receivedAt: number;
}

export interface SnapshotFetcherOptions {
  rest: BinanceRest;
  /** The request-weight budget snapshots share with trade repairs (and take first). */
  budget: RequestWeightBudget;
  /** Levels per side (`SNAPSHOT_DEPTH`); the request's weight follows from it. */
  depth: number;
  /** Snapshot requests in flight at once. */
  concurrency: number;
  backoff: BackoffOptions;
  logger: Logger;
  /** Told when no snapshot waits for request weight any more (repairs may go on). */
  onNoneWaiting?: () => void;
}

/**
 * Fetches `GET /api/v3/depth?symbol=X&limit=SNAPSHOT_DEPTH` snapshots, retrying until one
 * arrives (or the fetcher is closed), within Binance's request-weight rules: a bounded
 * number in flight, the shared weight budget (429/418 pauses included, see BinanceRest).
 * Snapshots come before trade repairs: while one waits for weight, repairs wait too.
 */
export class SnapshotFetcher {
  private readonly abort = new AbortController();
  private readonly waiting: (() => void)[] = [];
  private readonly weight: number;
  private active = 0;
  private waitingForWeight = 0;

  constructor(private readonly options: SnapshotFetcherOptions) {
    this.weight = snapshotWeight(options.depth);
  }

  /** Snapshots waiting for request weight right now. */
  get waitingForBudget(): number {
    return this.waitingForWeight;
  }

  /** Resolves with a valid snapshot; rejects only when the fetcher is closed. */
  async fetch(symbol: string): Promise<DepthSnapshot> {
    await this.acquire();
    try {
      for (let attempt = 1; ; attempt++) {
        await this.waitForBudget();
        const result = await this.options.rest.get(
          'depth',
          { symbol, limit: this.options.depth },
          depthSnapshotBodySchema,
        );
        if (result.ok) {
          const { lastUpdateId, bids, asks } = result.body;
          return { symbol, lastUpdateId, bids, asks, receivedAt: result.receivedAt };
        }
        const delay = result.retryAt !== undefined ? 0 : backoffDelay(attempt, this.options.backoff);
        this.options.logger.warn(
          { symbol, attempt },
          `depth snapshot for ${symbol} failed: ${result.reason}; retrying${delay > 0 ? ` in ${(delay / 1000).toFixed(1)}s` : ''}`,
        );
        if (delay > 0) await sleep(delay, undefined, { signal: this.abort.signal });
      }
    } finally {
      this.release();
    }
  }

  close(): void {
    this.abort.abort();
    for (const wake of this.waiting.splice(0)) wake();
  }

  private async waitForBudget(): Promise<void> {
    this.waitingForWeight++;
    try {
      for (;;) {
        this.abort.signal.throwIfAborted();
        const wait = this.options.budget.take(this.weight, Date.now());
        if (wait === 0) return;
        await sleep(wait, undefined, { signal: this.abort.signal });
      }
    } finally {
      this.waitingForWeight--;
      if (this.waitingForWeight === 0) this.options.onNoneWaiting?.();
    }
  }

  private async acquire(): Promise<void> {
    while (this.active >= this.options.concurrency) {
      this.abort.signal.throwIfAborted();
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.abort.signal.throwIfAborted();
    this.active++;
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}
