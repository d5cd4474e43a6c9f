import type { EventEmitter } from 'node:events';
import type { DepthSnapshotBody } from '@candleflow/common/binance-events';
import type { OrderBook } from '@candleflow/common/order-book';
import type { Ticker24hr } from './ticker-24hr.js';
import type { Trade, TradeLog } from './trade-log.js';

/** Where a source delivers frames (the simulator's stream hub). */
export interface FrameOutlet {
  hasSubscribers(stream: string): boolean;
  /** Open connections. */
  readonly connections: number;
  /** Sends the event JSON on `stream`; returns how many clients got it. */
  publish(stream: string, dataJson: string): number;
  /** Runs `send`, delivering what it publishes in as few writes as possible. */
  batch(send: () => void): void;
  /** True while some client has too much queued to send more. */
  backlogged(): boolean;
  /** Resolves once every client's queue is at most `bytes`. */
  drained(bytes: number): Promise<void>;
}

/** Frame counters a source keeps up to date (frames handed to at least one client). */
export interface FrameCounters {
  trades: number;
  depth: number;
}

/** What a source needs from the simulator around it. */
export interface SourceContext {
  outlet: FrameOutlet;
  counters: FrameCounters;
  /** Receives 'sent', 'depth', 'skipped' and 'withheld' events (see Simulator). */
  events: EventEmitter;
  /** Every trade a source generates or replays, for REST. */
  trades: TradeLog;
  /** Per symbol, how many of its next trades to keep off the stream (see Simulator.withholdTrades). */
  withhold: Map<string, number>;
}

/**
 * Logs a new trade for REST, and tells whether the stream may send it: false when it is
 * one of the trades to withhold, so clients see its id missing.
 */
export function admitTrade(context: SourceContext, symbol: string, trade: Trade): boolean {
  context.trades.append(symbol, trade);
  const pending = context.withhold.get(symbol);
  if (pending === undefined) return true;
  if (pending > 1) context.withhold.set(symbol, pending - 1);
  else context.withhold.delete(symbol);
  context.events.emit('withheld', symbol, trade);
  return false;
}

/** A market behind the simulator's endpoints: synthetic or a recorded session. */
export interface MarketSource {
  readonly symbols: readonly string[];
  /** Whether a stream name is one this source can ever send. */
  isServedStream(stream: string): boolean;
  /** The REST depth answer, or undefined for a symbol this source does not know. */
  depth(symbol: string, limit: number): DepthSnapshotBody | undefined;
  /** 24 h tickers of every symbol. */
  tickers(): Ticker24hr[];
  skipNextDiff(symbol: string): void;
  book(symbol: string): OrderBook;
  /** Begins sending; the simulator calls it when a client first subscribes. */
  start(): void;
  close(): void;
}

/** Thrown for a symbol the source does not know. */
export class UnknownSymbolError extends Error {
  constructor(symbol: string) {
    super(`unknown symbol ${JSON.stringify(symbol)}`);
    this.name = 'UnknownSymbolError';
  }
}
