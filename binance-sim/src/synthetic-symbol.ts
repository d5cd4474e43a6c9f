import type { DepthSnapshotBody, DepthUpdateEvent, PriceLevel } from '@candleflow/common/binance-events';
import { depthStream, tradeStream } from '@candleflow/common/binance-events';
import { OrderBook } from '@candleflow/common/order-book';
import { formatFixed } from '@candleflow/common/decimal';
import { SeededRandom, deriveSeed } from './seeded-random.js';
import type { SymbolProfile } from './symbol-profile.js';
import { TickerAccumulator, type Ticker24hr } from './ticker-24hr.js';
import type { Trade } from './trade-log.js';

/** Hard ceiling of levels per side, below Binance's 1000-level snapshot, so `limit=1000` is the whole book. */
export const MAX_LEVELS_PER_SIDE = 900;

/** Mid-price volatility per 100 ms diff, relative to the starting price. */
const STEP_VOLATILITY = 5e-5;
/** Pull of the mid back toward its starting price per diff, so long runs stay plausible. */
const MEAN_REVERSION = 5e-5;
/** Typical distance between neighbouring levels, relative to the starting price. */
const LEVEL_GAP = 2e-5;
const TRADE_QTY_TABLE = 64;

type Side = 'bid' | 'ask';

/** A trade as Binance's `@trade` stream sends it (event time = trade time). */
export function tradeEventJson(symbol: string, trade: Trade): string {
  return `{"e":"trade","E":${trade.time},"s":"${symbol}","t":${trade.id},"p":"${trade.price}","q":"${trade.qty}","T":${trade.time},"m":${trade.isBuyerMaker},"M":true}`;
}

/**
 * One synthetic symbol: a random-walk mid price, a consistent order book around it, the
 * depth diffs that move the book and the trades that print at its best levels. No I/O
 * and no clock: callers pass the wall-clock time to stamp on events, so the sequence of
 * books, ids, prices and quantities depends only on the seed and the sequence of calls.
 */
export class SyntheticSymbol {
  readonly symbol: string;
  readonly tradeStream: string;
  readonly depthStream: string;
  readonly priceDecimals: number;
  readonly qtyDecimals: number;

  private readonly rng: SeededRandom;
  private readonly startTicks: number;
  private readonly gapTicks: number;
  private readonly sigmaTicks: number;
  private readonly minLevels: number;
  private readonly maxLevels: number;
  private readonly typicalLots: number;
  private midTicks: number;

  /** Best first: bids descending, asks ascending. */
  private readonly bidTicks: number[] = [];
  private readonly askTicks: number[] = [];
  private readonly bidLots = new Map<number, number>();
  private readonly askLots = new Map<number, number>();
  /** Levels changed since the last diff: tick -> new lots (0 = removed). */
  private readonly pendingBids = new Map<number, number>();
  private readonly pendingAsks = new Map<number, number>();

  private updateId: number;
  private tradeId: number;
  private tradedBidLots = 0;
  private tradedAskLots = 0;
  private takerSells = false;
  private burstTradesLeft = 0;
  private bestBidText = '';
  private bestAskText = '';
  private readonly tradeLots: number[] = [];
  private readonly tradeLotsText: string[] = [];
  private readonly ticker: TickerAccumulator;
  private readonly priceScale: number;
  private readonly qtyScale: number;

  constructor(profile: SymbolProfile, seed: number, createdAtMs = 0) {
    this.symbol = profile.symbol;
    this.tradeStream = tradeStream(profile.symbol);
    this.depthStream = depthStream(profile.symbol);
    this.priceDecimals = profile.priceDecimals;
    this.qtyDecimals = profile.qtyDecimals;
    this.priceScale = 10 ** profile.priceDecimals;
    this.qtyScale = 10 ** profile.qtyDecimals;
    this.rng = new SeededRandom(deriveSeed(seed, profile.symbol));
    this.startTicks = profile.startTicks;
    this.midTicks = profile.startTicks + 0.5;
    this.gapTicks = Math.max(1, Math.round(profile.startTicks * LEVEL_GAP));
    this.sigmaTicks = Math.max(0.5, profile.startTicks * STEP_VOLATILITY);
    this.typicalLots = Math.max(1, profile.typicalLots);
    const target = this.rng.int(60, 300);
    this.minLevels = Math.round(target * 0.7);
    this.maxLevels = Math.min(MAX_LEVELS_PER_SIDE, Math.round(target * 1.3));
    this.updateId = this.rng.int(1_000_000, 900_000_000);
    this.tradeId = this.rng.int(100_000, 90_000_000);
    for (let i = 0; i < TRADE_QTY_TABLE; i++) {
      const lots = Math.max(1, Math.round(Math.exp(this.rng.gaussian()) * this.typicalLots * 0.05));
      this.tradeLots.push(lots);
      this.tradeLotsText.push(formatFixed(lots, this.qtyDecimals));
    }
    this.fillSide('bid', target);
    this.fillSide('ask', target);
    this.pendingBids.clear();
    this.pendingAsks.clear();
    this.refreshBestText();
    this.ticker = new TickerAccumulator(this.symbol, createdAtMs);
  }

  get lastUpdateId(): number {
    return this.updateId;
  }

  get levelCounts(): { bids: number; asks: number } {
    return { bids: this.bidTicks.length, asks: this.askTicks.length };
  }

  /** The next trade, at the best bid (taker sells, `m: true`) or best ask (taker buys). */
  trade(nowMs: number): Trade {
    if (this.burstTradesLeft > 0) this.burstTradesLeft--;
    else if (this.rng.chance(0.002)) this.burstTradesLeft = this.rng.int(20, 200);
    else if (this.rng.chance(0.35)) this.takerSells = !this.takerSells;
    const sells = this.takerSells;
    const qtyIndex = this.rng.int(0, TRADE_QTY_TABLE);
    const lots = (this.tradeLots[qtyIndex] ?? 1) * (this.burstTradesLeft > 0 ? 3 : 1);
    const ticks = (sells ? this.bidTicks[0] : this.askTicks[0]) ?? this.startTicks;
    if (sells) this.tradedBidLots += lots;
    else this.tradedAskLots += lots;
    const id = this.tradeId++;
    this.ticker.add(ticks / this.priceScale, lots / this.qtyScale, id, nowMs);
    const qty =
      this.burstTradesLeft > 0
        ? formatFixed(lots, this.qtyDecimals)
        : (this.tradeLotsText[qtyIndex] ?? formatFixed(lots, this.qtyDecimals));
    return { id, price: sells ? this.bestBidText : this.bestAskText, qty, time: nowMs, isBuyerMaker: sells };
  }

  /**
   * Moves the market by one 100 ms step: the mid walks, traded liquidity leaves the best
   * levels, about `changes` levels appear, change or disappear, and the book stays
   * uncrossed and between its level bounds. Returns the depth diff of that step, with
   * `U` = previous `u` + 1.
   */
  diff(nowMs: number, changes: number): DepthUpdateEvent {
    this.walkMid();
    this.consumeTraded();
    this.removeCrossed();
    for (let i = 0; i < changes; i++) this.randomChange();
    this.ensureTopNearMid();
    this.keepLevelBounds('bid');
    this.keepLevelBounds('ask');
    if (this.pendingBids.size + this.pendingAsks.size === 0) {
      const best = this.bidTicks[0] ?? 0;
      this.setLevel('bid', best, (this.bidLots.get(best) ?? 0) + 1);
    }
    const count = this.pendingBids.size + this.pendingAsks.size;
    const first = this.updateId + 1;
    this.updateId = first + count - 1 + this.rng.int(0, count);
    const event: DepthUpdateEvent = {
      e: 'depthUpdate',
      E: nowMs,
      s: this.symbol,
      U: first,
      u: this.updateId,
      b: this.drainPending(this.pendingBids, (a, b) => b - a),
      a: this.drainPending(this.pendingAsks, (a, b) => a - b),
    };
    this.refreshBestText();
    return event;
  }

  /** The REST depth answer: the whole book (or its best `limit` levels) at `lastUpdateId`. */
  depth(limit: number): DepthSnapshotBody {
    return {
      lastUpdateId: this.updateId,
      bids: this.formatSide(this.bidTicks, this.bidLots, limit),
      asks: this.formatSide(this.askTicks, this.askLots, limit),
    };
  }

  /** The true book right now, as the stack's shared book structure. */
  book(): OrderBook {
    const book = new OrderBook(this.symbol);
    const snapshot = this.depth(MAX_LEVELS_PER_SIDE);
    book.loadSnapshot(snapshot.lastUpdateId, snapshot.bids, snapshot.asks);
    return book;
  }

  /** The 24 h ticker entry: trades since start, top of book now. */
  ticker24hr(): Ticker24hr {
    const bid = this.bidTicks[0] ?? 0;
    const ask = this.askTicks[0] ?? 0;
    return this.ticker.toTicker({
      bidPrice: this.formatPrice(bid),
      bidQty: this.formatQty(this.bidLots.get(bid) ?? 0),
      askPrice: this.formatPrice(ask),
      askQty: this.formatQty(this.askLots.get(ask) ?? 0),
    });
  }

  formatPrice(ticks: number): string {
    return formatFixed(ticks, this.priceDecimals);
  }

  formatQty(lots: number): string {
    return formatFixed(lots, this.qtyDecimals);
  }

  private walkMid(): void {
    const pull = (this.startTicks - this.midTicks) * MEAN_REVERSION;
    const floor = this.gapTicks * this.maxLevels * 4;
    this.midTicks = Math.max(floor, this.midTicks + pull + this.rng.gaussian() * this.sigmaTicks);
  }

  private consumeTraded(): void {
    this.consumeBest('bid', this.tradedBidLots);
    this.consumeBest('ask', this.tradedAskLots);
    this.tradedBidLots = 0;
    this.tradedAskLots = 0;
  }

  private consumeBest(side: Side, traded: number): void {
    if (traded === 0) return;
    const best = this.ticksOf(side)[0];
    if (best === undefined) return;
    const left = (this.lotsOf(side).get(best) ?? 0) - traded;
    this.setLevel(side, best, left > 0 ? left : 0);
  }

  private removeCrossed(): void {
    for (let best = this.bidTicks[0]; best !== undefined && best >= this.midTicks; best = this.bidTicks[0]) {
      this.setLevel('bid', best, 0);
    }
    for (let best = this.askTicks[0]; best !== undefined && best <= this.midTicks; best = this.askTicks[0]) {
      this.setLevel('ask', best, 0);
    }
  }

  private randomChange(): void {
    const side: Side = this.rng.chance(0.5) ? 'bid' : 'ask';
    const ticks = this.ticksOf(side);
    if (ticks.length === 0) return;
    const index = Math.min(ticks.length - 1, Math.floor(this.rng.exponential(ticks.length / 5)));
    const at = ticks[index] ?? 0;
    const roll = this.rng.next();
    if (roll < 0.45) {
      this.setLevel(side, at, this.restingLots());
    } else if (roll < 0.7) {
      if (ticks.length > this.minLevels) this.setLevel(side, at, 0);
    } else {
      const dir = side === 'bid' ? -1 : 1;
      const next = ticks[index + 1] ?? at + dir * 2 * this.gapTicks;
      const room = Math.abs(next - at) - 1;
      if (room < 1) return;
      const tick = at + dir * (1 + this.rng.int(0, room));
      if (tick > 0 && ticks.length < this.maxLevels) this.setLevel(side, tick, this.restingLots());
    }
  }

  /** Keeps the spread within a few level gaps, as a market maker would. */
  private ensureTopNearMid(): void {
    const bid = this.bidTicks[0];
    if (bid === undefined || this.midTicks - bid > 3 * this.gapTicks) {
      this.setLevel('bid', Math.ceil(this.midTicks) - 1 - this.rng.int(0, this.gapTicks), this.restingLots());
    }
    const ask = this.askTicks[0];
    if (ask === undefined || ask - this.midTicks > 3 * this.gapTicks) {
      this.setLevel('ask', Math.floor(this.midTicks) + 1 + this.rng.int(0, this.gapTicks), this.restingLots());
    }
  }

  private keepLevelBounds(side: Side): void {
    const ticks = this.ticksOf(side);
    while (ticks.length > this.maxLevels) this.setLevel(side, ticks[ticks.length - 1] ?? 0, 0);
    if (ticks.length < this.minLevels) this.fillSide(side, this.minLevels);
  }

  /** Adds levels beyond the worst one until the side has `count` levels. */
  private fillSide(side: Side, count: number): void {
    const ticks = this.ticksOf(side);
    const dir = side === 'bid' ? -1 : 1;
    while (ticks.length < count) {
      const worst = ticks[ticks.length - 1];
      const start = side === 'bid' ? Math.ceil(this.midTicks) - 1 : Math.floor(this.midTicks) + 1;
      const tick = worst === undefined ? start : worst + dir * (1 + this.rng.int(0, 2 * this.gapTicks));
      if (tick <= 0) return;
      this.setLevel(side, tick, this.restingLots());
    }
  }

  private restingLots(): number {
    return Math.max(1, Math.round(Math.exp(this.rng.gaussian() * 1.2) * this.typicalLots));
  }

  private ticksOf(side: Side): number[] {
    return side === 'bid' ? this.bidTicks : this.askTicks;
  }

  private lotsOf(side: Side): Map<number, number> {
    return side === 'bid' ? this.bidLots : this.askLots;
  }

  /** Sets (lots > 0) or removes (lots 0) a level, and records it for the next diff. */
  private setLevel(side: Side, tick: number, lots: number): void {
    const ticks = this.ticksOf(side);
    const levels = this.lotsOf(side);
    const exists = levels.has(tick);
    if (lots > 0) {
      if (!exists) ticks.splice(this.insertionIndex(side, tick), 0, tick);
      levels.set(tick, lots);
    } else {
      if (!exists) return;
      ticks.splice(this.insertionIndex(side, tick), 1);
      levels.delete(tick);
    }
    (side === 'bid' ? this.pendingBids : this.pendingAsks).set(tick, lots);
  }

  /** Where `tick` is, or would go, in the side's best-first order (binary search). */
  private insertionIndex(side: Side, tick: number): number {
    const ticks = this.ticksOf(side);
    let lo = 0;
    let hi = ticks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const at = ticks[mid] ?? 0;
      if (side === 'bid' ? at > tick : at < tick) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private drainPending(pending: Map<number, number>, order: (a: number, b: number) => number): PriceLevel[] {
    const ticks = [...pending.keys()].sort(order);
    const levels: PriceLevel[] = ticks.map((t) => [this.formatPrice(t), this.formatQty(pending.get(t) ?? 0)]);
    pending.clear();
    return levels;
  }

  private formatSide(ticks: readonly number[], lots: Map<number, number>, limit: number): PriceLevel[] {
    const count = Math.min(limit, ticks.length);
    const levels: PriceLevel[] = [];
    for (let i = 0; i < count; i++) {
      const tick = ticks[i] ?? 0;
      levels.push([this.formatPrice(tick), this.formatQty(lots.get(tick) ?? 0)]);
    }
    return levels;
  }

  private refreshBestText(): void {
    this.bestBidText = this.formatPrice(this.bidTicks[0] ?? this.startTicks);
    this.bestAskText = this.formatPrice(this.askTicks[0] ?? this.startTicks);
  }
}
