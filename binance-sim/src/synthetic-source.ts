import type { OrderBook } from '@candleflow/common/order-book';
import type { DepthSnapshotBody } from '@candleflow/common/binance-events';
import { UnknownSymbolError, admitTrade, type MarketSource, type SourceContext } from './market-source.js';
import { PacingClock, SLOT_MS, SyntheticFeed } from './synthetic-feed.js';
import { tradeEventJson, type SyntheticSymbol } from './synthetic-symbol.js';
import type { Ticker24hr } from './ticker-24hr.js';

export interface SyntheticSourceOptions {
  symbols: readonly string[];
  /** Frames per second over all symbols (depth diffs included). */
  rate: number;
  seed?: number;
  /** Stop after this many frames handed to clients. */
  maxMessages?: number;
}

/** Bounds of the generator's sleep: it wakes when the next event is due, or to re-check a held client. */
const MIN_SLEEP_MS = 1;
const MAX_SLEEP_MS = 20;
/** How many events between back-pressure checks inside one wake-up. */
const CHECK_EVERY = 256;

/**
 * Drives a synthetic feed against the wall clock and hands its frames to the clients.
 * The market stands still until a client subscribes, and whenever a client falls behind
 * (back-pressure): frames are never generated for a client only to be dropped.
 */
export class SyntheticSource implements MarketSource {
  readonly symbols: readonly string[];
  private readonly feed: SyntheticFeed;
  private readonly bySymbol = new Map<string, SyntheticSymbol>();
  private readonly streams = new Set<string>();
  private readonly skipNext = new Set<string>();
  private readonly maxMessages: number;
  private clock?: PacingClock;
  private timer?: NodeJS.Timeout;
  private delivered = 0;
  private closed = false;

  constructor(
    options: SyntheticSourceOptions,
    private readonly context: SourceContext,
  ) {
    this.feed = new SyntheticFeed({ ...options, startedAtMs: Date.now() });
    for (const market of this.feed.markets) {
      this.bySymbol.set(market.symbol, market);
      this.streams.add(market.tradeStream);
      this.streams.add(market.depthStream);
    }
    this.symbols = this.feed.markets.map((m) => m.symbol);
    this.maxMessages = options.maxMessages ?? Number.POSITIVE_INFINITY;
  }

  isServedStream(stream: string): boolean {
    return this.streams.has(stream);
  }

  depth(symbol: string, limit: number): DepthSnapshotBody | undefined {
    return this.bySymbol.get(symbol)?.depth(limit);
  }

  tickers(): Ticker24hr[] {
    return this.feed.markets.map((m) => m.ticker24hr());
  }

  skipNextDiff(symbol: string): void {
    this.market(symbol);
    this.skipNext.add(symbol);
  }

  book(symbol: string): OrderBook {
    return this.market(symbol).book();
  }

  start(): void {
    if (this.clock || this.closed) return;
    this.clock = new PacingClock(performance.now(), SLOT_MS);
    this.schedule(0);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private market(symbol: string): SyntheticSymbol {
    const market = this.bySymbol.get(symbol);
    if (!market) throw new UnknownSymbolError(symbol);
    return market;
  }

  private schedule(delayMs: number): void {
    if (this.closed || this.delivered >= this.maxMessages) return;
    this.timer = setTimeout(() => this.tick(), Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, delayMs)));
  }

  /** Emits everything due by now (unless a client is held back), then sleeps until the next event. */
  private tick(): void {
    const { outlet } = this.context;
    const held = outlet.backlogged();
    const until = this.clock?.tick(performance.now(), held, this.feed.nextEventTime()) ?? 0;
    if (!held) outlet.batch(() => this.emitUntil(until));
    this.schedule(held ? MIN_SLEEP_MS : this.feed.nextEventTime() - until);
  }

  private emitUntil(untilMs: number): void {
    const nowMs = Date.now();
    let count = 0;
    while (this.feed.nextEventTime() <= untilMs && this.delivered < this.maxMessages) {
      if (++count % CHECK_EVERY === 0 && this.context.outlet.backlogged()) return;
      const event = this.feed.peek();
      this.feed.advance();
      if (event >= 0) this.emitTrade(this.feed.markets[event], nowMs);
      else this.emitDiff(this.feed.markets[-event - 1], nowMs);
    }
  }

  private emitTrade(market: SyntheticSymbol | undefined, nowMs: number): void {
    if (!market) return;
    const { outlet, counters } = this.context;
    const trade = market.trade(nowMs);
    if (!admitTrade(this.context, market.symbol, trade) || !outlet.hasSubscribers(market.tradeStream)) return;
    const json = tradeEventJson(market.symbol, trade);
    if (outlet.publish(market.tradeStream, json) === 0) return;
    counters.trades++;
    this.delivered++;
    this.emitSent(market.tradeStream, json);
  }

  private emitDiff(market: SyntheticSymbol | undefined, nowMs: number): void {
    if (!market) return;
    const { outlet, counters, events } = this.context;
    const event = market.diff(nowMs, this.feed.diffChanges());
    if (this.skipNext.delete(market.symbol)) {
      events.emit('skipped', event);
      return;
    }
    if (!outlet.hasSubscribers(market.depthStream)) return;
    const json = JSON.stringify(event);
    if (outlet.publish(market.depthStream, json) === 0) return;
    counters.depth++;
    this.delivered++;
    this.emitSent(market.depthStream, json);
    if (events.listenerCount('depth') > 0) events.emit('depth', event, market.book());
  }

  private emitSent(stream: string, json: string): void {
    const { events } = this.context;
    if (events.listenerCount('sent') > 0) events.emit('sent', stream, JSON.parse(json) as unknown);
  }
}
