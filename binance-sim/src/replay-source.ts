import { setImmediate as yieldToIo, setTimeout as sleep } from 'node:timers/promises';
import type { DepthSnapshotBody, DepthUpdateEvent, PriceLevel, TradeEvent } from '@candleflow/common/binance-events';
import type { OrderBook } from '@candleflow/common/order-book';
import { UnknownSymbolError, admitTrade, type MarketSource, type SourceContext } from './market-source.js';
import type { ReplayRecording, ReplayStreamLine } from './replay-file.js';
import { ReplayTimeline } from './replay-timeline.js';
import { PacingClock } from './synthetic-feed.js';
import { TickerAccumulator, type Ticker24hr } from './ticker-24hr.js';
import type { Trade } from './trade-log.js';

export interface ReplaySourceOptions {
  speed: 1 | 10 | 'max';
  loop?: boolean;
}

/** At speed max, lines sent between waits for the clients to read. */
const MAX_SPEED_CHUNK = 512;
/** At speed max, the queue a client may have before the replay waits for it. */
const MAX_SPEED_QUEUE_BYTES = 1024 * 1024;
/** Longest sleep between checks at speed 1 and 10 (keeps drops and back-pressure responsive). */
const MAX_SLEEP_MS = 50;

/** Diff-depth streams (`@depth`, `@depth@100ms`), not the partial-book ones (`@depth20`). */
const DIFF_STREAM = /@depth(@\d+ms)?$/;

interface TopOfBook {
  bidPrice: string;
  bidQty: string;
  askPrice: string;
  askQty: string;
}

/** A recorded `@trade` frame's trade (the recording was checked against the trade schema when loaded). */
function recordedTrade(data: unknown): Trade {
  const event = data as TradeEvent;
  return { id: event.t, price: event.p, qty: event.q, time: event.T, isBuyerMaker: event.m };
}

/**
 * Plays a recorded session to the clients: starts when the first client subscribes,
 * sends each subscribed stream's frames in recorded order at recorded spacing (or ten
 * times faster, or as fast as the clients read), and answers REST with the recorded
 * snapshots. Its trades reach REST as they are played, whether or not anyone subscribed
 * to them: a replay never serves trades from its future.
 */
export class ReplaySource implements MarketSource {
  readonly symbols: readonly string[];
  private readonly timeline: ReplayTimeline;
  private readonly skipNext = new Set<string>();
  private readonly tickerStats = new Map<string, TickerAccumulator>();
  private readonly tradeStreamOf = new Map<string, string>();
  private readonly topOfBook = new Map<string, TopOfBook>();
  private running = false;
  private closed = false;
  private timer?: NodeJS.Timeout;
  private clock?: PacingClock;

  constructor(
    private readonly recording: ReplayRecording,
    private readonly options: ReplaySourceOptions,
    private readonly context: SourceContext,
  ) {
    this.timeline = new ReplayTimeline(recording, options.loop ?? false);
    this.symbols = recording.symbols;
    const openTime = recording.lines[0]?.ts ?? 0;
    for (const symbol of recording.symbols) this.tickerStats.set(symbol, new TickerAccumulator(symbol, openTime));
    // Tickers count `@trade` frames, or `@aggTrade` ones for symbols recorded without trades.
    for (const stream of recording.streams) {
      const symbol = stream.slice(0, stream.indexOf('@')).toUpperCase();
      if (stream.endsWith('@trade')) this.tradeStreamOf.set(symbol, stream);
      else if (stream.endsWith('@aggTrade') && !this.tradeStreamOf.has(symbol)) this.tradeStreamOf.set(symbol, stream);
    }
  }

  isServedStream(stream: string): boolean {
    return this.recording.streams.has(stream);
  }

  depth(symbol: string, limit: number): DepthSnapshotBody | undefined {
    const body = this.timeline.snapshot(symbol);
    if (!body) return undefined;
    return { ...body, bids: body.bids.slice(0, limit), asks: body.asks.slice(0, limit) };
  }

  tickers(): Ticker24hr[] {
    return this.symbols.map((symbol) => {
      const stats = this.tickerStats.get(symbol) ?? new TickerAccumulator(symbol, 0);
      return stats.toTicker(this.topOfBook.get(symbol) ?? this.snapshotTop(symbol));
    });
  }

  skipNextDiff(symbol: string): void {
    if (!this.symbols.includes(symbol)) throw new UnknownSymbolError(symbol);
    this.skipNext.add(symbol);
  }

  book(symbol: string): OrderBook {
    throw new Error(`a replay has no true book for ${symbol}; book() is for synthetic symbols`);
  }

  start(): void {
    if (this.running || this.closed) return;
    this.running = true;
    if (this.options.speed === 'max') {
      void this.runAtMaxSpeed();
    } else {
      this.clock = new PacingClock(performance.now(), MAX_SLEEP_MS);
      this.tick();
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  /** Speed 1 or 10: sends every line whose recorded time (scaled) has come, then sleeps until the next. */
  private tick(): void {
    if (this.closed) return;
    const speed = this.options.speed === 10 ? 10 : 1;
    const { outlet } = this.context;
    const held = outlet.backlogged();
    const now = this.clock?.tick(performance.now(), held, this.timeline.nextDueMs() / speed) ?? 0;
    if (!held) {
      outlet.batch(() => {
        while (this.timeline.nextDueMs() / speed <= now && !outlet.backlogged()) this.playNext();
      });
    }
    if (this.timeline.finished) return;
    const wait = Math.min(MAX_SLEEP_MS, Math.max(1, this.timeline.nextDueMs() / speed - now));
    this.timer = setTimeout(() => this.tick(), wait);
  }

  /** Speed max: sends in chunks, waiting after each for every client to read what it has. */
  private async runAtMaxSpeed(): Promise<void> {
    const { outlet } = this.context;
    while (!this.closed && !this.timeline.finished) {
      if (outlet.connections === 0) {
        await sleep(10);
        continue;
      }
      outlet.batch(() => {
        for (let i = 0; i < MAX_SPEED_CHUNK && !this.timeline.finished; i++) this.playNext();
      });
      await outlet.drained(MAX_SPEED_QUEUE_BYTES);
      await yieldToIo();
    }
  }

  private playNext(): void {
    const line = this.timeline.peek();
    if (!line) return;
    this.timeline.advance();
    if (line.kind === 'stream') this.playFrame(line);
  }

  private playFrame(line: ReplayStreamLine): void {
    this.track(line);
    const { outlet, counters, events } = this.context;
    const isDepth = DIFF_STREAM.test(line.stream);
    if (isDepth && this.skipNext.delete(line.symbol)) {
      events.emit('skipped', line.data as DepthUpdateEvent);
      return;
    }
    if (line.stream.endsWith('@trade') && !admitTrade(this.context, line.symbol, recordedTrade(line.data))) return;
    if (!outlet.hasSubscribers(line.stream) || outlet.publish(line.stream, line.json) === 0) return;
    if (isDepth) counters.depth++;
    else if (line.stream.endsWith('@trade')) counters.trades++;
    if (events.listenerCount('sent') > 0) events.emit('sent', line.stream, line.data);
  }

  /** Keeps the 24 h ticker current with the recording, whether or not anyone subscribed. */
  private track(line: ReplayStreamLine): void {
    const data = line.data as Record<string, unknown>;
    if (this.tradeStreamOf.get(line.symbol) === line.stream) {
      const id = typeof data.t === 'number' ? data.t : typeof data.a === 'number' ? data.a : 0;
      const time = typeof data.T === 'number' ? data.T : line.ts;
      this.tickerStats.get(line.symbol)?.add(Number(data.p), Number(data.q), id, time);
    } else if (line.stream.endsWith('@bookTicker')) {
      this.topOfBook.set(line.symbol, {
        bidPrice: String(data.b),
        bidQty: String(data.B),
        askPrice: String(data.a),
        askQty: String(data.A),
      });
    }
  }

  private snapshotTop(symbol: string): TopOfBook {
    const body = this.timeline.snapshot(symbol);
    const [bidPrice, bidQty]: PriceLevel = body?.bids[0] ?? ['0.00000000', '0.00000000'];
    const [askPrice, askQty]: PriceLevel = body?.asks[0] ?? ['0.00000000', '0.00000000'];
    return { bidPrice, bidQty, askPrice, askQty };
  }
}
