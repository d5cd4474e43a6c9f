import { divideRounded, formatUnits, unitsToNumber } from '@candleflow/common/decimal';

/** A trade as the window engine needs it; price and quantity in units of 10^-8 (common/decimal), parsed once. */
export interface Trade {
  symbol: string;
  tradeId: number;
  price: bigint;
  qty: bigint;
  tradeTimeMs: number;
  /** Binance `m`: true when the buyer was the maker, i.e. the taker sold. */
  isBuyerMaker: boolean;
}

/** One (symbol, window) as written to `trade_windows`; prices as decimal text without trailing zeros. */
export interface WindowRow {
  symbol: string;
  windowStartMs: number;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: number;
  quoteVolume: number;
  vwap: number;
  trades: number;
  buyVolume: number;
  sellVolume: number;
  /** Smallest and largest trade id in the window. */
  firstTradeId: number;
  lastTradeId: number;
  /** Trade ids between the first and the last that the window lacks (ids are consecutive per symbol). */
  missingTrades: number;
  isFinal: boolean;
}

/** A window that received a trade after it was final: its row must be recomputed. */
export interface LateWindow {
  symbol: string;
  windowStartMs: number;
}

export interface WindowSettings {
  windowMs: number;
  /** A window closes once a trade this far past its end has been seen on its partition. */
  graceMs: number;
  /** A partition without trades for this long (wall time) closes all its open windows. */
  idleMs: number;
}

export type AddOutcome = 'added' | 'duplicate' | 'late';

/** Decimals of the quote volume (price × quantity) and of the VWAP before its conversion to a Float64. */
const QUOTE_SCALE = 16;
const VWAP_SCALE = 20;
const VWAP_SHIFT = 10n ** BigInt(VWAP_SCALE + 8 - QUOTE_SCALE);

/** Start of the window holding `timeMs`. */
export function windowStart(timeMs: number, windowMs: number): number {
  return Math.floor(timeMs / windowMs) * windowMs;
}

/** Earliest by (trade time, trade id): how the window orders its open and close. */
function isBefore(a: Trade, b: Trade): boolean {
  return a.tradeTimeMs < b.tradeTimeMs || (a.tradeTimeMs === b.tradeTimeMs && a.tradeId < b.tradeId);
}

/**
 * The aggregate of one window's trades, in exact decimals. Adding a trade id it has already
 * seen changes nothing, so re-delivered trades are never counted twice.
 */
export class WindowAggregate {
  private readonly ids = new Set<number>();
  private first: Trade | undefined;
  private last: Trade | undefined;
  private high: bigint | undefined;
  private low: bigint | undefined;
  private volume = 0n;
  /** In units of 10^-QUOTE_SCALE. */
  private quoteVolume = 0n;
  private buyVolume = 0n;
  private minId = Number.POSITIVE_INFINITY;
  private maxId = Number.NEGATIVE_INFINITY;

  constructor(
    readonly symbol: string,
    readonly windowStartMs: number,
  ) {}

  get trades(): number {
    return this.ids.size;
  }

  /** Adds a trade; false if a trade with this id was already in the window. */
  add(trade: Trade): boolean {
    if (this.ids.has(trade.tradeId)) return false;
    this.ids.add(trade.tradeId);
    const { price, qty } = trade;
    if (this.first === undefined || isBefore(trade, this.first)) this.first = trade;
    if (this.last === undefined || isBefore(this.last, trade)) this.last = trade;
    if (this.high === undefined || price > this.high) this.high = price;
    if (this.low === undefined || price < this.low) this.low = price;
    this.volume += qty;
    this.quoteVolume += price * qty;
    if (!trade.isBuyerMaker) this.buyVolume += qty;
    this.minId = Math.min(this.minId, trade.tradeId);
    this.maxId = Math.max(this.maxId, trade.tradeId);
    return true;
  }

  /** The row for the trades so far. The window must hold at least one trade. */
  row(isFinal: boolean): WindowRow {
    const { first, last, high, low } = this;
    if (!first || !last || high === undefined || low === undefined) {
      throw new Error(`window ${this.symbol}@${this.windowStartMs} has no trades`);
    }
    return {
      symbol: this.symbol,
      windowStartMs: this.windowStartMs,
      open: formatUnits(first.price),
      high: formatUnits(high),
      low: formatUnits(low),
      close: formatUnits(last.price),
      volume: unitsToNumber(this.volume),
      quoteVolume: unitsToNumber(this.quoteVolume, QUOTE_SCALE),
      // Divided in decimals (20 places, far below a Float64's resolution at any price), so
      // a window traded at one price has exactly that VWAP. Zero-quantity trades give no
      // volume to weigh by; the VWAP is then the close.
      vwap:
        this.volume === 0n
          ? unitsToNumber(last.price)
          : unitsToNumber(divideRounded(this.quoteVolume * VWAP_SHIFT, this.volume), VWAP_SCALE),
      trades: this.ids.size,
      buyVolume: unitsToNumber(this.buyVolume),
      sellVolume: unitsToNumber(this.volume - this.buyVolume),
      firstTradeId: this.minId,
      lastTradeId: this.maxId,
      missingTrades: this.maxId - this.minId + 1 - this.ids.size,
      isFinal,
    };
  }
}

/** Aggregates a list of trades into window rows, one per (symbol, window), in window order. */
export function aggregateTrades(trades: Iterable<Trade>, windowMs: number, isFinal: boolean): WindowRow[] {
  const windows = new Map<string, WindowAggregate>();
  for (const trade of trades) {
    const start = windowStart(trade.tradeTimeMs, windowMs);
    const key = `${trade.symbol}\u0000${start}`;
    let aggregate = windows.get(key);
    if (!aggregate) {
      aggregate = new WindowAggregate(trade.symbol, start);
      windows.set(key, aggregate);
    }
    aggregate.add(trade);
  }
  return [...windows.values()]
    .map((w) => w.row(isFinal))
    .sort((a, b) => a.windowStartMs - b.windowStartMs || a.symbol.localeCompare(b.symbol));
}

interface OpenWindow {
  aggregate: WindowAggregate;
  /** Position (Kafka offset) of the first message that went into the window. */
  firstPosition: number;
  changed: boolean;
}

interface PartitionWindows {
  open: Map<string, OpenWindow>;
  /**
   * Per symbol, the open window it last added to: most trades go to it, found without
   * building the composite key. A window found here that starts where the trade belongs
   * is still open, since a trade for a closed window is late before the lookup.
   */
  latest: Map<string, OpenWindow>;
  maxTradeTimeMs: number;
  /** Every window of this partition starting before this is final. */
  closedBeforeMs: number;
  lastTradeAtMs: number;
}

/**
 * Tumbling event-time windows per symbol over trade time, with a watermark per input
 * partition. No I/O: the caller feeds trades with their position in the partition, asks
 * for rows to write, and asks which position is the first one an open window still needs
 * (everything before it may be committed once the rows taken so far are durable).
 *
 * A trade for a window that is already final is "late": the engine does not hold that
 * window any more, so it reports it (takeLateWindows) for the caller to recompute from all
 * of the window's stored trades.
 */
export class TumblingWindows {
  private readonly partitions = new Map<number, PartitionWindows>();
  /** Per symbol, the start of the latest window known to be final. */
  private readonly finalThrough = new Map<string, number>();
  private finalRows: WindowRow[] = [];
  private late = new Map<string, LateWindow>();

  constructor(readonly settings: WindowSettings) {
    for (const [name, value] of Object.entries(settings)) {
      if (!Number.isInteger(value) || value < 0)
        throw new Error(`${name} must be a non-negative integer, got ${value}`);
    }
    if (settings.windowMs <= 0) throw new Error('windowMs must be positive');
  }

  /** Forgets a partition's open windows (it was revoked, or will be re-read from a commit). */
  dropPartition(partition: number): void {
    this.partitions.delete(partition);
  }

  /** Records that `symbol`'s windows up to and including `windowStartMs` are final (read back from storage). */
  markFinalThrough(symbol: string, windowStartMs: number): void {
    this.finalThrough.set(symbol, Math.max(windowStartMs, this.finalThrough.get(symbol) ?? Number.NEGATIVE_INFINITY));
  }

  add(partition: number, position: number, trade: Trade, nowMs: number): AddOutcome {
    const state = this.partition(partition, nowMs);
    state.lastTradeAtMs = nowMs;
    const start = windowStart(trade.tradeTimeMs, this.settings.windowMs);
    if (start < state.closedBeforeMs || start <= (this.finalThrough.get(trade.symbol) ?? Number.NEGATIVE_INFINITY)) {
      this.late.set(`${trade.symbol}\u0000${start}`, { symbol: trade.symbol, windowStartMs: start });
      return 'late';
    }
    let window = state.latest.get(trade.symbol);
    if (window?.aggregate.windowStartMs !== start) {
      const key = `${trade.symbol}\u0000${start}`;
      window = state.open.get(key);
      if (!window) {
        window = { aggregate: new WindowAggregate(trade.symbol, start), firstPosition: position, changed: false };
        state.open.set(key, window);
      }
      state.latest.set(trade.symbol, window);
    }
    if (!window.aggregate.add(trade)) return 'duplicate';
    window.changed = true;
    window.firstPosition = Math.min(window.firstPosition, position);
    if (trade.tradeTimeMs > state.maxTradeTimeMs) {
      state.maxTradeTimeMs = trade.tradeTimeMs;
      this.closeBefore(state, windowStart(trade.tradeTimeMs - this.settings.graceMs, this.settings.windowMs));
    }
    return 'added';
  }

  /** Closes every open window of partitions that have had no trade for `idleMs`. */
  closeIdle(nowMs: number): void {
    for (const state of this.partitions.values()) {
      if (state.open.size > 0 && nowMs - state.lastTradeAtMs >= this.settings.idleMs) {
        this.closeBefore(state, windowStart(state.maxTradeTimeMs, this.settings.windowMs) + this.settings.windowMs);
      }
    }
  }

  /** Restarts every partition's idle clock, e.g. after reading was paused on purpose. */
  touchAll(nowMs: number): void {
    for (const state of this.partitions.values()) state.lastTradeAtMs = nowMs;
  }

  /** Rows of the windows that closed since the last call, in closing order. */
  takeFinalRows(): WindowRow[] {
    const rows = this.finalRows;
    this.finalRows = [];
    return rows;
  }

  /** Current rows of the open windows that changed since the last call. */
  takeOpenRows(): WindowRow[] {
    const rows: WindowRow[] = [];
    for (const state of this.partitions.values()) {
      for (const window of state.open.values()) {
        if (!window.changed) continue;
        window.changed = false;
        rows.push(window.aggregate.row(false));
      }
    }
    return rows;
  }

  /** Windows that received late trades since the last call. */
  takeLateWindows(): LateWindow[] {
    const windows = [...this.late.values()];
    this.late = new Map();
    return windows;
  }

  /** The first position an open window of `partition` still needs; undefined if none is open. */
  firstNeededPosition(partition: number): number | undefined {
    const state = this.partitions.get(partition);
    if (!state) return undefined;
    let first: number | undefined;
    for (const window of state.open.values()) {
      if (first === undefined || window.firstPosition < first) first = window.firstPosition;
    }
    return first;
  }

  openWindowCount(): number {
    let count = 0;
    for (const state of this.partitions.values()) count += state.open.size;
    return count;
  }

  private partition(partition: number, nowMs: number): PartitionWindows {
    let state = this.partitions.get(partition);
    if (!state) {
      state = {
        open: new Map(),
        latest: new Map(),
        maxTradeTimeMs: Number.NEGATIVE_INFINITY,
        closedBeforeMs: Number.NEGATIVE_INFINITY,
        lastTradeAtMs: nowMs,
      };
      this.partitions.set(partition, state);
    }
    return state;
  }

  private closeBefore(state: PartitionWindows, boundaryMs: number): void {
    if (boundaryMs <= state.closedBeforeMs) return;
    state.closedBeforeMs = boundaryMs;
    const closing = [...state.open.entries()]
      .filter(([, w]) => w.aggregate.windowStartMs < boundaryMs)
      .sort(([, a], [, b]) => a.aggregate.windowStartMs - b.aggregate.windowStartMs);
    for (const [key, window] of closing) {
      state.open.delete(key);
      if (state.latest.get(window.aggregate.symbol) === window) state.latest.delete(window.aggregate.symbol);
      this.finalRows.push(window.aggregate.row(true));
      this.markFinalThrough(window.aggregate.symbol, window.aggregate.windowStartMs);
    }
  }
}
