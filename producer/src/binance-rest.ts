import type { z } from 'zod';
import { describeZodError } from '@candleflow/common/binance-events';
import type { ProducerMetrics, RestEndpoint, RestResult } from './metrics.js';
import type { RequestWeightBudget } from './request-weight-budget.js';

export type RestAnswer<T> =
  | { ok: true; body: T; receivedAt: number }
  /** `retryAt` (ms) when the exchange said how long to wait (429/418 with Retry-After). */
  | { ok: false; reason: string; retryAt?: number };

export interface BinanceRestOptions {
  /** `BINANCE_REST_URL`. */
  restUrl: string;
  /** The producer's one request-weight budget: told what the server counted, and blocked on 429/418. */
  budget: RequestWeightBudget;
  metrics: Pick<ProducerMetrics, 'restRequests'>;
  requestTimeoutMs?: number;
}

/** When a 429/418 comes without Retry-After. */
const DEFAULT_RETRY_AFTER_S = 60;

/**
 * GETs on Binance's public REST API (depth snapshots, trade repairs). Every answer is
 * checked against its schema; whatever goes wrong (unreachable, HTTP error, not JSON,
 * unexpected shape) comes back as a failed answer with a one-line reason, counted per
 * endpoint and result, never thrown. The server's weight count and its 429/418 pauses
 * go to the shared budget, so every kind of request slows down together. Waiting for
 * weight is the callers' part (they know their priority).
 */
export class BinanceRest {
  private readonly abort = new AbortController();
  private readonly base: string;

  constructor(private readonly options: BinanceRestOptions) {
    this.base = options.restUrl.replace(/\/+$/, '');
  }

  /** Rejects (AbortError) only when closed. */
  async get<T>(
    endpoint: RestEndpoint,
    query: Record<string, string | number>,
    schema: z.ZodType<T>,
  ): Promise<RestAnswer<T>> {
    const answer = await this.request(endpoint, query, schema);
    this.options.metrics.restRequests.inc({ endpoint, result: answer.result });
    return answer.answer;
  }

  /** Ends the requests in flight (they reject) and refuses new ones. */
  close(): void {
    this.abort.abort();
  }

  private async request<T>(
    endpoint: RestEndpoint,
    query: Record<string, string | number>,
    schema: z.ZodType<T>,
  ): Promise<{ result: RestResult; answer: RestAnswer<T> }> {
    const search = Object.entries(query)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
      .join('&');
    const url = `${this.base}/api/v3/${endpoint}?${search}`;
    const failed = (result: RestResult, reason: string, retryAt?: number) => ({
      result,
      answer: { ok: false as const, reason, ...(retryAt === undefined ? {} : { retryAt }) },
    });
    this.abort.signal.throwIfAborted();
    let response: Response;
    try {
      response = await fetch(url, {
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.requestTimeoutMs ?? 10_000)]),
      });
    } catch (error) {
      this.abort.signal.throwIfAborted();
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      return failed('failed', `cannot reach BINANCE_REST_URL=${this.options.restUrl}: ${String(error)}${cause}`);
    }
    const now = Date.now();
    const used = Number(response.headers.get('x-mbx-used-weight-1m'));
    if (Number.isFinite(used) && used > 0) this.options.budget.observeUsed(used, now);
    if (response.status === 429 || response.status === 418) {
      await response.body?.cancel();
      const retryAfter = Number(response.headers.get('retry-after'));
      const seconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : DEFAULT_RETRY_AFTER_S;
      const retryAt = now + seconds * 1000;
      this.options.budget.block(retryAt);
      const why = response.status === 418 ? 'banned for exceeding the request weight' : 'request weight exceeded';
      return failed('rate-limited', `HTTP ${response.status} (${why}), pausing REST requests for ${seconds}s`, retryAt);
    }
    const text = await response.text().catch((error: unknown) => `(unreadable body: ${String(error)})`);
    if (!response.ok) return failed('failed', `HTTP ${response.status}: ${text.slice(0, 200)}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return failed('bad-answer', `answer is not JSON: ${text.slice(0, 200)}`);
    }
    const body = schema.safeParse(json);
    if (!body.success) return failed('bad-answer', `unexpected answer: ${describeZodError(body.error)}`);
    return { result: 'ok', answer: { ok: true, body: body.data, receivedAt: now } };
  }
}
