import { setTimeout as sleep } from 'node:timers/promises';
import { depthSnapshotBodySchema, describeZodError, type PriceLevel } from '@candleflow/common/binance-events';
import type { Logger } from '@candleflow/common/logger';
import { backoffDelay, type BackoffOptions } from '@candleflow/common/retry';
import { RequestWeightBudget } from './request-weight-budget.js';

export interface DepthSnapshot {
  symbol: string;
  lastUpdateId: number;
  bids: PriceLevel[];
  asks: PriceLevel[];
  /** When the answer arrived (ms). */
  receivedAt: number;
}

export interface SnapshotFetcherOptions {
  /** `BINANCE_REST_URL`. */
  restUrl: string;
  /** Snapshot requests in flight at once. */
  concurrency: number;
  /** Request weight to spend per minute at most. */
  weightPerMinute: number;
  backoff: BackoffOptions;
  logger: Logger;
  requestTimeoutMs?: number;
}

/** Binance's weight for `GET /api/v3/depth` with `limit=1000`. */
const DEPTH_1000_WEIGHT = 50;
/** When a 429/418 comes without Retry-After. */
const DEFAULT_RETRY_AFTER_S = 60;

/**
 * Fetches `GET /api/v3/depth?symbol=X&limit=1000` snapshots, retrying until one
 * arrives (or the fetcher is closed), within Binance's request-weight rules: a bounded
 * number in flight, a weight budget per minute, and a pause for as long as a 429 or
 * 418 answer's Retry-After says.
 */
export class SnapshotFetcher {
  private readonly budget: RequestWeightBudget;
  private readonly abort = new AbortController();
  private readonly waiting: (() => void)[] = [];
  private active = 0;

  constructor(private readonly options: SnapshotFetcherOptions) {
    this.budget = new RequestWeightBudget(options.weightPerMinute);
  }

  /** Resolves with a valid snapshot; rejects only when the fetcher is closed. */
  async fetch(symbol: string): Promise<DepthSnapshot> {
    await this.acquire();
    try {
      for (let attempt = 1; ; attempt++) {
        await this.waitForBudget();
        const result = await this.request(symbol);
        if (result.ok) return result.snapshot;
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

  private async request(
    symbol: string,
  ): Promise<{ ok: true; snapshot: DepthSnapshot } | { ok: false; reason: string; retryAt?: number }> {
    const url = `${this.options.restUrl.replace(/\/+$/, '')}/api/v3/depth?symbol=${encodeURIComponent(symbol)}&limit=1000`;
    let response: Response;
    try {
      response = await fetch(url, {
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000)]),
      });
    } catch (error) {
      this.abort.signal.throwIfAborted();
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      return { ok: false, reason: `cannot reach BINANCE_REST_URL=${this.options.restUrl}: ${String(error)}${cause}` };
    }
    const now = Date.now();
    const used = Number(response.headers.get('x-mbx-used-weight-1m'));
    if (Number.isFinite(used) && used > 0) this.budget.observeUsed(used, now);
    if (response.status === 429 || response.status === 418) {
      await response.body?.cancel();
      const retryAfter = Number(response.headers.get('retry-after'));
      const seconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : DEFAULT_RETRY_AFTER_S;
      const retryAt = now + seconds * 1000;
      this.budget.block(retryAt);
      return {
        ok: false,
        reason: `HTTP ${response.status} (request weight exceeded), pausing snapshots for ${seconds}s`,
        retryAt,
      };
    }
    const text = await response.text().catch((error: unknown) => `(unreadable body: ${String(error)})`);
    if (!response.ok) return { ok: false, reason: `HTTP ${response.status}: ${text.slice(0, 200)}` };
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, reason: `answer is not JSON: ${text.slice(0, 200)}` };
    }
    const body = depthSnapshotBodySchema.safeParse(json);
    if (!body.success) return { ok: false, reason: `unexpected answer: ${describeZodError(body.error)}` };
    return {
      ok: true,
      snapshot: {
        symbol,
        lastUpdateId: body.data.lastUpdateId,
        bids: body.data.bids,
        asks: body.data.asks,
        receivedAt: now,
      },
    };
  }

  private async waitForBudget(): Promise<void> {
    for (;;) {
      this.abort.signal.throwIfAborted();
      const wait = this.budget.take(DEPTH_1000_WEIGHT, Date.now());
      if (wait === 0) return;
      await sleep(wait, undefined, { signal: this.abort.signal });
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
