import { addDecimals, multiplyDecimals } from '@candleflow/common/decimal';

/** Trades kept per symbol for the REST trade endpoints unless told otherwise. */
export const DEFAULT_TRADE_RETENTION = 1_000_000;

/** A trade as the simulator generated or replayed it (and sent it, unless it was withheld). */
export interface Trade {
  id: number;
  price: string;
  qty: string;
  /** Trade time (`T`), ms. */
  time: number;
  isBuyerMaker: boolean;
}

/** An item of Binance's `GET /api/v3/historicalTrades` answer. */
export interface HistoricalTrade {
  id: number;
  price: string;
  qty: string;
  quoteQty: string;
  time: number;
  isBuyerMaker: boolean;
  isBestMatch: boolean;
}

/** An item of Binance's `GET /api/v3/aggTrades` answer. */
export interface AggregateTrade {
  /** Aggregate trade id. */
  a: number;
  p: string;
  q: string;
  /** First and last trade id of the aggregate. */
  f: number;
  l: number;
  T: number;
  m: boolean;
  M: boolean;
}

/** `GET /api/v3/aggTrades` parameters, checked. `fromId` is an aggregate id. */
export interface AggregateQuery {
  fromId?: number;
  startTime?: number;
  endTime?: number;
  limit: number;
}

/**
 * The trades of every symbol, as REST serves them: the latest `retention` trades per
 * symbol, in a ring that grows up to that size (about 40 bytes a trade; prices and
 * quantities are usually strings shared with the stream).
 */
export class TradeLog {
  private readonly bySymbol = new Map<string, SymbolTrades>();

  constructor(private readonly retention = DEFAULT_TRADE_RETENTION) {
    if (!Number.isInteger(retention) || retention < 1) throw new Error(`invalid trade retention ${retention}`);
  }

  append(symbol: string, trade: Trade): void {
    let trades = this.bySymbol.get(symbol);
    if (!trades) {
      trades = new SymbolTrades(this.retention);
      this.bySymbol.set(symbol, trades);
    }
    trades.append(trade);
  }

  /** `historicalTrades`: from `fromId` (inclusive), or the latest `limit` trades. */
  historical(symbol: string, fromId: number | undefined, limit: number): HistoricalTrade[] {
    return this.bySymbol.get(symbol)?.historical(fromId, limit) ?? [];
  }

  /** `aggTrades`: aggregates from an aggregate id or a time, up to a time, or the latest ones. */
  aggregates(symbol: string, query: AggregateQuery): AggregateTrade[] {
    return this.bySymbol.get(symbol)?.aggregates(query) ?? [];
  }
}

const INITIAL_CAPACITY = 1024;
/**
 * Aggregate ids count separately from trade ids and run far lower on Binance; starting them
 * at this fraction of the first trade id keeps the two apart, so a client that mixes
 * them up fails against the simulator too.
 */
const AGGREGATE_ID_RATIO = 0.7;

/**
 * One symbol's trades in id order, in columns (typed arrays where they can be). Each trade
 * belongs to an aggregate, as Binance groups them: consecutive trades at the same time,
 * price and taker side.
 */
class SymbolTrades {
  private capacity = 0;
  private ids = new Float64Array(0);
  private times = new Float64Array(0);
  private aggregateIds = new Float64Array(0);
  private makers = new Uint8Array(0);
  private prices: string[] = [];
  private qtys: string[] = [];
  /** Where the oldest trade is. */
  private head = 0;
  private size = 0;
  private nextAggregateId = 0;
  /**
   * The newest trade the retention dropped (-1: none). Requests reaching back to it get an
   * empty answer, not a misleading one that starts later.
   */
  private dropped = { id: -1, time: -1, aggregateId: -1 };

  constructor(private readonly retention: number) {
    this.resize(Math.min(retention, INITIAL_CAPACITY));
  }

  append(trade: Trade): void {
    // Ids only grow, except when a looping replay starts its recording over.
    if (this.size > 0 && trade.id <= this.id(this.size - 1)) this.startOver();
    const aggregateId = this.continuesAggregate(trade)
      ? this.aggregateId(this.size - 1)
      : this.newAggregateId(trade.id);
    if (this.size === this.capacity) {
      if (this.capacity < this.retention) this.resize(Math.min(this.retention, this.capacity * 2));
      else this.dropOldest();
    }
    const at = this.slot(this.size);
    this.ids[at] = trade.id;
    this.times[at] = trade.time;
    this.aggregateIds[at] = aggregateId;
    this.makers[at] = trade.isBuyerMaker ? 1 : 0;
    this.prices[at] = trade.price;
    this.qtys[at] = trade.qty;
    this.size++;
  }

  historical(fromId: number | undefined, limit: number): HistoricalTrade[] {
    if (fromId !== undefined && fromId <= this.dropped.id) return [];
    const start = fromId === undefined ? Math.max(0, this.size - limit) : this.lowerBound(this.ids, fromId);
    const end = Math.min(this.size, start + limit);
    const trades: HistoricalTrade[] = [];
    for (let i = start; i < end; i++) {
      const at = this.slot(i);
      const price = this.prices[at] ?? '';
      const qty = this.qtys[at] ?? '';
      trades.push({
        id: this.ids[at] ?? 0,
        price,
        qty,
        quoteQty: multiplyDecimals(price, qty),
        time: this.times[at] ?? 0,
        isBuyerMaker: this.makers[at] === 1,
        isBestMatch: true,
      });
    }
    return trades;
  }

  aggregates({ fromId, startTime, endTime, limit }: AggregateQuery): AggregateTrade[] {
    if (fromId !== undefined && fromId <= this.dropped.aggregateId) return [];
    if (startTime !== undefined && startTime <= this.dropped.time) return [];
    // An aggregate that lost its first trades to the retention is not served.
    const first =
      this.size > 0 && this.aggregateId(0) === this.dropped.aggregateId
        ? this.upperBound(this.aggregateIds, this.dropped.aggregateId)
        : 0;
    const end = endTime === undefined ? this.size : this.upperBound(this.times, endTime);
    let start: number;
    if (fromId !== undefined) start = this.lowerBound(this.aggregateIds, fromId);
    else if (startTime !== undefined) start = this.lowerBound(this.times, startTime);
    else start = this.startOfLastAggregates(limit, first, end);
    start = Math.max(start, first);

    const aggregates: AggregateTrade[] = [];
    for (let i = start; i < end && aggregates.length < limit;) {
      const at = this.slot(i);
      const aggregateId = this.aggregateIds[at] ?? 0;
      let qty = this.qtys[at] ?? '';
      let last = i;
      while (last + 1 < end && this.aggregateId(last + 1) === aggregateId) {
        last++;
        qty = addDecimals(qty, this.qtys[this.slot(last)] ?? '');
      }
      aggregates.push({
        a: aggregateId,
        p: this.prices[at] ?? '',
        q: qty,
        f: this.ids[at] ?? 0,
        l: this.id(last),
        T: this.times[at] ?? 0,
        m: this.makers[at] === 1,
        M: true,
      });
      i = last + 1;
    }
    return aggregates;
  }

  /** Where the latest `count` aggregates before `end` begin (not before `first`). */
  private startOfLastAggregates(count: number, first: number, end: number): number {
    let start = end;
    for (let found = 0; found < count && start > first; found++) {
      const aggregateId = this.aggregateId(start - 1);
      while (start > first && this.aggregateId(start - 1) === aggregateId) start--;
    }
    return start;
  }

  private continuesAggregate(trade: Trade): boolean {
    if (this.size === 0) return false;
    const at = this.slot(this.size - 1);
    return (
      trade.id === (this.ids[at] ?? 0) + 1 &&
      trade.time === this.times[at] &&
      trade.isBuyerMaker === (this.makers[at] === 1) &&
      trade.price === this.prices[at]
    );
  }

  private newAggregateId(tradeId: number): number {
    if (this.size === 0 && this.dropped.id < 0) this.nextAggregateId = Math.floor(tradeId * AGGREGATE_ID_RATIO);
    return this.nextAggregateId++;
  }

  private dropOldest(): void {
    const at = this.head;
    this.dropped = { id: this.ids[at] ?? 0, time: this.times[at] ?? 0, aggregateId: this.aggregateIds[at] ?? 0 };
    this.head = (this.head + 1) % this.capacity;
    this.size--;
  }

  private startOver(): void {
    this.head = 0;
    this.size = 0;
    this.dropped = { id: -1, time: -1, aggregateId: -1 };
  }

  /** Moves the trades into columns of `capacity`, oldest first. */
  private resize(capacity: number): void {
    const order = Array.from({ length: this.size }, (_, i) => this.slot(i));
    const ids = new Float64Array(capacity);
    const times = new Float64Array(capacity);
    const aggregateIds = new Float64Array(capacity);
    const makers = new Uint8Array(capacity);
    const prices = new Array<string>(capacity).fill('');
    const qtys = new Array<string>(capacity).fill('');
    order.forEach((from, to) => {
      ids[to] = this.ids[from] ?? 0;
      times[to] = this.times[from] ?? 0;
      aggregateIds[to] = this.aggregateIds[from] ?? 0;
      makers[to] = this.makers[from] ?? 0;
      prices[to] = this.prices[from] ?? '';
      qtys[to] = this.qtys[from] ?? '';
    });
    this.capacity = capacity;
    this.ids = ids;
    this.times = times;
    this.aggregateIds = aggregateIds;
    this.makers = makers;
    this.prices = prices;
    this.qtys = qtys;
    this.head = 0;
  }

  /** The column index of the `i`-th oldest trade. */
  private slot(i: number): number {
    return (this.head + i) % this.capacity;
  }

  private id(i: number): number {
    return this.ids[this.slot(i)] ?? 0;
  }

  private aggregateId(i: number): number {
    return this.aggregateIds[this.slot(i)] ?? 0;
  }

  /** The first position whose value in `column` (non-decreasing by position) is >= `value`. */
  private lowerBound(column: Float64Array, value: number): number {
    return this.search(column, (v) => v < value);
  }

  /** The first position whose value in `column` is > `value`. */
  private upperBound(column: Float64Array, value: number): number {
    return this.search(column, (v) => v <= value);
  }

  private search(column: Float64Array, before: (value: number) => boolean): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(column[this.slot(mid)] ?? 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
