import { decimalSchema, REST_SOURCE } from '@candleflow/common/binance-events';
import { z } from 'zod';
import type { Logger } from '@candleflow/common/logger';
import { errorMessage } from '@candleflow/common/retry';
import type { BinanceRest } from './binance-rest.js';
import { rangeSize, totalSize } from './id-ranges.js';
import type { OutgoingMessage } from './kafka-sink.js';
import type { ProducerMetrics } from './metrics.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { RepairPlanner, RepairRequest, RepairStatus } from './repair-planner.js';
import type { IdRange } from './trade-continuity.js';

const BOUND_REACHED = 'REPAIR_MAX_TRADES_PER_SYMBOL reached';

const id = z.number().int().nonnegative();

/** `GET /api/v3/historicalTrades` answer. */
export const historicalTradesSchema = z.array(
  z.looseObject({
    id,
    price: decimalSchema,
    qty: decimalSchema,
    time: id,
    isBuyerMaker: z.boolean(),
    isBestMatch: z.boolean(),
  }),
);
export type HistoricalTrade = z.infer<typeof historicalTradesSchema>[number];

/** `GET /api/v3/aggTrades` answer; `f` is the aggregate's first trade id. */
export const aggTradesSchema = z.array(z.looseObject({ a: id, f: id, l: id, T: id }));

/**
 * A REST trade as the stream would have sent it: `{"e":"trade","E":...,"s","t","p","q","T","m","M"}`,
 * with `E` the time it was fetched. The values were checked by the schema (decimal
 * strings, integers, booleans), so they are written as they are.
 */
export function restTradeEvent(symbol: string, trade: HistoricalTrade, fetchedAt: number): string {
  return `{"e":"trade","E":${fetchedAt},"s":"${symbol}","t":${trade.id},"p":"${trade.price}","q":"${trade.qty}","T":${trade.time},"m":${trade.isBuyerMaker},"M":${trade.isBestMatch}}`;
}

/** What the repairer needs of the Kafka sink. */
export interface RepairSink {
  send(message: OutgoingMessage): boolean;
  /** Resolves once `count` more messages fit without pushing the queue to its high-water mark. */
  waitForRoom(count: number): Promise<void>;
}

export interface TradeRepairerOptions {
  /** The trades topic. */
  topic: string;
  planner: RepairPlanner;
  rest: BinanceRest;
  sink: RepairSink;
  /** Depth snapshots take priority: while one waits for request weight, no repair starts. */
  snapshots: { readonly waitingForBudget: number };
  /** Trades per request, as the planner was told. */
  batchLimit: number;
  metrics: Pick<
    ProducerMetrics,
    'tradesRepaired' | 'tradesUnrepairable' | 'repairPendingTrades' | 'repairPendingSymbols'
  >;
  logger: Logger;
  /** Requests in flight at once (each for another symbol). Default 2. */
  maxInFlight?: number;
  /** A progress line this often while trades wait for repair. Default 10 s. */
  progressIntervalMs?: number;
}

/**
 * Fills trade holes from Binance's REST API: carries out the RepairPlanner's requests
 * and publishes the trades they bring to the trades topic (keyed by symbol, header
 * `source: rest`), in id order per symbol. A repaired trade Kafka could not take goes
 * back to the planner. Progress shows in one log line per interval and in metrics.
 */
export class TradeRepairer {
  private closed = false;
  private readonly failureLog: RateLimitedLog;
  private readonly progressTimer: NodeJS.Timeout;
  private wakeUp: (() => void) | undefined;
  private inFlight = 0;
  private repairedSinceProgress = 0;
  private unrepairableSinceProgress = 0;
  private wasRepairing = false;

  constructor(private readonly options: TradeRepairerOptions) {
    this.failureLog = new RateLimitedLog(options.logger, 30_000);
    this.progressTimer = setInterval(() => this.progress(), options.progressIntervalMs ?? 10_000);
    this.progressTimer.unref();
    void this.run();
  }

  /** Ids `range` of `symbol` are missing from the topic. */
  addHole(symbol: string, range: IdRange): void {
    this.options.logger.debug({ symbol, from: range.from, to: range.to }, 'trades missing; repairing over REST');
    this.unrepairable(symbol, this.options.planner.addHole(symbol, range), BOUND_REACHED);
    this.wake();
  }

  /** `symbol` is new to the topic: fill its trades from `sinceMs` up to `beforeId`. */
  addBackfill(symbol: string, sinceMs: number, beforeId: number): void {
    this.options.planner.addBackfill(symbol, sinceMs, beforeId);
    this.wake();
  }

  /** Something the planner waits on changed (snapshots no longer waiting, say). */
  wake(): void {
    const wake = this.wakeUp;
    this.wakeUp = undefined;
    wake?.();
  }

  /** Stops: no new request; answers still in flight are not published. */
  close(): void {
    this.closed = true;
    clearInterval(this.progressTimer);
    this.wake();
  }

  private async run(): Promise<void> {
    const maxInFlight = this.options.maxInFlight ?? 2;
    while (!this.closed) {
      if (this.inFlight >= maxInFlight) {
        await this.sleep();
        continue;
      }
      // Room for every batch that may come back, before asking: repaired trades must not
      // push the stream's own trades out of the queue. (Closing the sink ends this wait.)
      await this.options.sink.waitForRoom(this.options.batchLimit * (this.inFlight + 1));
      if (this.closed) return;
      const step = this.options.planner.next(Date.now(), this.options.snapshots.waitingForBudget > 0);
      if (step.kind === 'request') {
        this.inFlight++;
        void this.carryOut(step.request).finally(() => {
          this.inFlight--;
          this.wake();
        });
        continue;
      }
      await this.sleep(step.kind === 'wait' ? step.ms : undefined);
    }
  }

  /** Until woken (closing wakes too), or `ms` passed. */
  private sleep(ms?: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = ms === undefined ? undefined : setTimeout(() => this.wake(), ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async carryOut(request: RepairRequest): Promise<void> {
    const { planner, rest } = this.options;
    const { symbol } = request;
    try {
      if (request.kind === 'find-start') {
        const answer = await rest.get('aggTrades', { symbol, startTime: request.startTime, limit: 1 }, aggTradesSchema);
        if (!answer.ok) return this.failed(symbol, answer.reason, answer.retryAt);
        const first = answer.body[0]?.f;
        this.options.logger.debug(
          { symbol, sinceMs: request.startTime, firstId: first },
          `${symbol}: filling its trades since ${new Date(request.startTime).toISOString()}`,
        );
        this.unrepairable(symbol, planner.onStartFound(symbol, first), BOUND_REACHED);
        return;
      }
      const { fromId, limit } = request;
      const answer = await rest.get('historicalTrades', { symbol, fromId, limit }, historicalTradesSchema);
      if (!answer.ok) return this.failed(symbol, answer.reason, answer.retryAt);
      const disorder = answer.body.findIndex((t, i) => t.id <= (i === 0 ? fromId - 1 : (answer.body[i - 1]?.id ?? 0)));
      if (disorder >= 0) return this.failed(symbol, `answer not ascending from fromId=${fromId} at index ${disorder}`);
      if (this.closed) return;
      const { publish, unrepairable } = planner.onFetched(symbol, fromId, answer.body, Date.now());
      this.publish(symbol, publish, answer.receivedAt);
      this.unrepairable(symbol, unrepairable, 'not served by the exchange');
    } catch (error) {
      if (this.closed) return;
      this.failed(symbol, errorMessage(error));
    }
  }

  private publish(symbol: string, trades: HistoricalTrade[], fetchedAt: number): void {
    const { sink, topic, planner, metrics } = this.options;
    let sent = 0;
    for (const trade of trades) {
      const message: OutgoingMessage = {
        topic,
        key: symbol,
        value: restTradeEvent(symbol, trade, fetchedAt),
        receivedAt: fetchedAt,
        tradeId: trade.id,
        source: REST_SOURCE,
      };
      if (sink.send(message)) sent++;
      // Refused (queue full): still missing, fetched again later.
      else this.unrepairable(symbol, planner.addHole(symbol, { from: trade.id, to: trade.id }), BOUND_REACHED);
    }
    metrics.tradesRepaired.inc(sent);
    this.repairedSinceProgress += sent;
  }

  private failed(symbol: string, reason: string, retryAt?: number): void {
    this.options.planner.onFailed(symbol, Date.now(), retryAt);
    this.failureLog.warn(
      `repair-${reason.slice(0, 40)}`,
      { symbol, reason },
      `trade repair request for ${symbol} failed: ${reason}; retrying`,
    );
  }

  /** Reports ids given up, once each: a warning and the metric. */
  private unrepairable(symbol: string, ranges: IdRange[], why: string): void {
    if (ranges.length === 0) return;
    const count = totalSize(ranges);
    this.options.metrics.tradesUnrepairable.inc(count);
    this.unrepairableSinceProgress += count;
    const first = ranges[0] as IdRange;
    const last = ranges.at(-1) as IdRange;
    this.options.logger.warn(
      { symbol, count, from: first.from, to: last.to, ranges: ranges.length, why },
      `${symbol}: ${count} missed trades cannot be repaired (${why}): ids ${first.from}..${last.to}${ranges.length > 1 || rangeSize(first) !== count ? ' (not all)' : ''}`,
    );
  }

  /** Sets the pending gauges; what is waiting now. */
  collect(): RepairStatus {
    const status = this.options.planner.status();
    this.options.metrics.repairPendingTrades.set(status.ids);
    this.options.metrics.repairPendingSymbols.set(status.symbols);
    return status;
  }

  private progress(): void {
    const { symbols, ids } = this.collect();
    const fields = {
      symbolsPending: symbols,
      idsLeft: ids,
      repaired: this.repairedSinceProgress,
      unrepairable: this.unrepairableSinceProgress,
    };
    if (symbols > 0) {
      this.options.logger.info(fields, `repairing trades: ${symbols} symbols pending, ${ids} ids left`);
    } else if (this.wasRepairing) {
      this.options.logger.info(fields, 'trade repair caught up');
    }
    this.wasRepairing = symbols > 0;
    this.repairedSinceProgress = 0;
    this.unrepairableSinceProgress = 0;
  }
}
