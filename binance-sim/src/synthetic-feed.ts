import { SeededRandom, deriveSeed } from './seeded-random.js';
import { symbolProfile } from './symbol-profile.js';
import { SyntheticSymbol } from './synthetic-symbol.js';

/** Binance's `@depth@100ms` cadence: one diff per symbol per slot. */
export const SLOT_MS = 100;

export interface SyntheticFeedOptions {
  symbols: readonly string[];
  /** Frames per second over all symbols, depth diffs included. */
  rate: number;
  seed?: number;
  /** Wall-clock ms stamped on the tickers' open time. */
  startedAtMs?: number;
}

/**
 * The order of a synthetic market's events, in virtual time. Time is cut into 100 ms
 * slots; each slot holds one depth diff per symbol (spread evenly over the slot) and
 * `rate / 10 - symbols` trades (spread evenly between them), each trade going to a symbol
 * drawn by activity weight, with occasional bursts on one symbol. The plan depends only
 * on the seed, so a market replays identically however fast it is consumed.
 *
 * An event is a number: `i >= 0` is a trade of symbol `i`, `-(i + 1)` a diff of symbol `i`.
 */
export class SyntheticFeed {
  readonly markets: SyntheticSymbol[];
  /** Level changes per diff, scaled with the trade rate so busier markets move more. */
  readonly changesPerDiff: number;

  private readonly rng: SeededRandom;
  private readonly tradesPerSlot: number;
  private readonly baseWeights: Float64Array;
  private readonly burstSlotsLeft: Int32Array;
  private readonly cumulative: Float64Array;
  private plan = new Int32Array(64);
  private planLength = 0;
  private position = 0;
  private slot = -1;
  private tradeCarry = 0;

  constructor(options: SyntheticFeedOptions) {
    if (options.symbols.length === 0) throw new Error('a synthetic feed needs at least one symbol');
    const bad = options.symbols.find((s) => !/^[A-Z0-9]{2,20}$/.test(s));
    if (bad !== undefined) throw new Error(`invalid symbol ${JSON.stringify(bad)}: expected upper-case like BTCUSDT`);
    if (!Number.isFinite(options.rate) || options.rate < 0) throw new Error(`invalid rate ${options.rate}`);
    const seed = options.seed ?? 1;
    this.rng = new SeededRandom(deriveSeed(seed, 'feed'));
    this.markets = options.symbols.map(
      (s) => new SyntheticSymbol(symbolProfile(s, seed), seed, options.startedAtMs ?? 0),
    );
    const n = this.markets.length;
    this.tradesPerSlot = Math.max(0, (options.rate * SLOT_MS) / 1000 - n);
    this.changesPerDiff = Math.min(200, 2 + Math.round(this.tradesPerSlot / n / 4));
    this.baseWeights = Float64Array.from(this.markets, () => 0.5 + this.rng.next());
    this.burstSlotsLeft = new Int32Array(n);
    this.cumulative = new Float64Array(n);
    this.planSlot();
  }

  /** Virtual time (ms since the feed started) at which the next event is due. */
  nextEventTime(): number {
    return (this.slot + this.position / this.planLength) * SLOT_MS;
  }

  /** The next event (see the class comment) without consuming it. */
  peek(): number {
    return this.plan[this.position] ?? 0;
  }

  /** Consumes the next event. */
  advance(): void {
    this.position++;
    if (this.position >= this.planLength) this.planSlot();
  }

  /** How many changes the next diff of a symbol should make (a little random). */
  diffChanges(): number {
    return 1 + this.rng.int(0, 2 * this.changesPerDiff);
  }

  private planSlot(): void {
    this.slot++;
    this.position = 0;
    const n = this.markets.length;
    this.tradeCarry += this.tradesPerSlot;
    const trades = Math.floor(this.tradeCarry);
    this.tradeCarry -= trades;
    const total = trades + n;
    if (this.plan.length < total) this.plan = new Int32Array(total * 2);
    this.planLength = total;

    let sum = 0;
    for (let i = 0; i < n; i++) {
      const left = this.burstSlotsLeft[i] ?? 0;
      if (left > 0) this.burstSlotsLeft[i] = left - 1;
      else if (this.rng.chance(0.002)) this.burstSlotsLeft[i] = this.rng.int(10, 30);
      sum += (this.baseWeights[i] ?? 1) * ((this.burstSlotsLeft[i] ?? 0) > 0 ? 8 : 1);
      this.cumulative[i] = sum;
    }
    let nextDiff = 0;
    for (let p = 0; p < total; p++) {
      if (nextDiff < n && p === Math.floor(((nextDiff + 0.5) * total) / n)) {
        this.plan[p] = -(nextDiff + 1);
        nextDiff++;
      } else {
        this.plan[p] = this.pickMarket(this.rng.next() * sum);
      }
    }
  }

  private pickMarket(target: number): number {
    let lo = 0;
    let hi = this.markets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] ?? 0) > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}

/**
 * Virtual time for pacing a feed against the wall clock: it advances with the wall clock
 * while running, stands still while held (a client cannot keep up), and never runs more
 * than `maxLagMs` ahead of the events already emitted, so a stall is followed by a bounded
 * catch-up instead of a flood.
 */
export class PacingClock {
  private virtualMs = 0;
  private lastWallMs: number;

  constructor(
    startWallMs: number,
    private readonly maxLagMs: number,
  ) {
    this.lastWallMs = startWallMs;
  }

  /** Advances to `wallMs` (or holds) and returns the virtual time events are due up to. */
  tick(wallMs: number, hold: boolean, emittedUpToMs: number): number {
    const elapsed = Math.max(0, wallMs - this.lastWallMs);
    this.lastWallMs = wallMs;
    if (!hold) this.virtualMs = Math.min(this.virtualMs + elapsed, emittedUpToMs + this.maxLagMs);
    return this.virtualMs;
  }
}
