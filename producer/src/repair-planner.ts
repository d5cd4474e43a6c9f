import { addRange, missingIds, removeRange, takeLowest, totalSize } from './id-ranges.js';
import { AGG_TRADES_WEIGHT, HISTORICAL_TRADES_WEIGHT, type RequestWeightBudget } from './request-weight-budget.js';
import type { IdRange } from './trade-continuity.js';

/**
 * What to fetch next to fill the trade holes of every symbol, with no I/O: the caller
 * carries out the requests and reports the answers.
 *
 * - Budget: every request takes its weight from the budget shared with depth snapshots,
 *   leaves `snapshotReserve` of each minute to them, and none starts while a snapshot
 *   waits for weight (a book without its snapshot is unusable).
 * - Fairness: symbols take turns, one request each (round-robin), so after an outage of
 *   many symbols all of them progress; a symbol never has two requests in flight.
 * - Order: each symbol's holes are fetched from the lowest id up, so the repaired trades
 *   of a symbol reach the topic in id order.
 * - Bound: at most `maxTradesPerSymbol` ids wait per symbol; beyond it the oldest are
 *   given up (reported once, as unrepairable).
 */

export interface RepairPlannerOptions {
  budget: RequestWeightBudget;
  /** Weight a repair leaves unspent in each minute, for snapshots. */
  snapshotReserve: number;
  /** Ids waiting for repair per symbol at most. */
  maxTradesPerSymbol: number;
  /** Trades asked for per request (Binance serves at most 1000). */
  batchLimit: number;
  /** Wait (ms) before a symbol's next request after its `attempt`-th failure in a row. */
  retryDelay: (attempt: number) => number;
  /** Empty answers in a row after which the ids asked for count as unavailable. Default 3. */
  maxEmptyAnswers?: number;
}

export type RepairRequest =
  /** `GET /api/v3/aggTrades?startTime=...&limit=1`: the first trade id at or after `startTime`. */
  | { kind: 'find-start'; symbol: string; startTime: number }
  /** `GET /api/v3/historicalTrades?fromId=...&limit=...`. */
  | { kind: 'fetch'; symbol: string; fromId: number; limit: number };

export type RepairStep =
  | { kind: 'request'; request: RepairRequest }
  /** Nothing may start before `ms` from now (budget, or every symbol backing off). */
  | { kind: 'wait'; ms: number }
  /** Nothing to do until told of new holes or answers (or snapshots stop waiting). */
  | { kind: 'idle' };

export interface RepairStatus {
  /** Symbols with ids (or a backfill) waiting. */
  symbols: number;
  /** Ids waiting, backfills not yet located excluded. */
  ids: number;
}

interface SymbolRepair {
  holes: IdRange[];
  /** A backfill whose first id is still to be found. */
  backfill?: { sinceMs: number; beforeId: number };
  inFlight: boolean;
  /** In `order`, waiting for its turn. */
  scheduled: boolean;
  failures: number;
  emptyAnswers: number;
  retryAt: number;
}

export class RepairPlanner {
  private readonly symbols = new Map<string, SymbolRepair>();
  /** Symbols with work, in turn order; `cursor` is the next one's index. */
  private order: string[] = [];
  private cursor = 0;
  private pendingIds = 0;

  constructor(private readonly options: RepairPlannerOptions) {}

  /** Ids `range` are missing from the topic; returns what the bound made unrepairable. */
  addHole(symbol: string, range: IdRange): IdRange[] {
    if (range.to < range.from) return [];
    const state = this.stateOf(symbol);
    const before = totalSize(state.holes);
    state.holes = addRange(state.holes, range);
    const excess = totalSize(state.holes) - this.options.maxTradesPerSymbol;
    let dropped: IdRange[] = [];
    if (excess > 0) ({ ranges: state.holes, taken: dropped } = takeLowest(state.holes, excess));
    this.pendingIds += totalSize(state.holes) - before;
    this.schedule(symbol);
    return dropped;
  }

  /** The trades of `symbol` from `sinceMs` up to `beforeId` (excluded) are to be filled. */
  addBackfill(symbol: string, sinceMs: number, beforeId: number): void {
    this.stateOf(symbol).backfill = { sinceMs, beforeId };
    this.schedule(symbol);
  }

  /** The next request to make, if the budget and the snapshots allow one now. */
  next(now: number, snapshotsWaiting: boolean): RepairStep {
    if (snapshotsWaiting || this.order.length === 0) return { kind: 'idle' };
    let soonest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.order.length; i++) {
      const index = (this.cursor + i) % this.order.length;
      const symbol = this.order[index] as string;
      const state = this.symbols.get(symbol) as SymbolRepair;
      if (state.inFlight) continue;
      if (state.retryAt > now) {
        soonest = Math.min(soonest, state.retryAt - now);
        continue;
      }
      const request = this.requestFor(symbol, state);
      const weight = request.kind === 'fetch' ? HISTORICAL_TRADES_WEIGHT : AGG_TRADES_WEIGHT;
      const wait = this.options.budget.take(weight, now, this.options.snapshotReserve);
      if (wait > 0) return { kind: 'wait', ms: wait };
      state.inFlight = true;
      this.cursor = index + 1;
      return { kind: 'request', request };
    }
    return Number.isFinite(soonest) ? { kind: 'wait', ms: soonest } : { kind: 'idle' };
  }

  /**
   * The answer to a `fetch`: `trades` as served, ascending from `fromId`. Returns the ones
   * to publish (still missing, in id order) and the missing ids the answer showed to be
   * unavailable (skipped over by the exchange).
   */
  onFetched<T extends { id: number }>(
    symbol: string,
    fromId: number,
    trades: readonly T[],
    now: number,
  ): { publish: T[]; unrepairable: IdRange[] } {
    const state = this.stateOf(symbol);
    state.inFlight = false;
    const last = trades.at(-1);
    // Nothing at or after fromId: as if empty (the caller checks that answers ascend).
    if (last === undefined || last.id < fromId)
      return { publish: [], unrepairable: this.onEmpty(symbol, state, fromId, now) };
    state.failures = 0;
    state.emptyAnswers = 0;
    const { ranges, within } = removeRange(state.holes, { from: fromId, to: last.id });
    state.holes = ranges;
    const publish: T[] = [];
    const ids: number[] = [];
    let range = 0;
    for (const trade of trades) {
      while (range < within.length && (within[range] as IdRange).to < trade.id) range++;
      const r = within[range];
      if (r === undefined) break;
      if (trade.id >= r.from) {
        publish.push(trade);
        ids.push(trade.id);
      }
    }
    const unrepairable = within.flatMap((r) => missingIds(ids, r));
    this.pendingIds -= totalSize(within);
    this.unscheduleIfDone(symbol, state);
    return { publish, unrepairable };
  }

  /** The answer to a `find-start`: the first trade id at or after its start time, if any. */
  onStartFound(symbol: string, firstId: number | undefined): IdRange[] {
    const state = this.stateOf(symbol);
    state.inFlight = false;
    state.failures = 0;
    const backfill = state.backfill;
    state.backfill = undefined;
    if (backfill === undefined || firstId === undefined || firstId >= backfill.beforeId) {
      this.unscheduleIfDone(symbol, state);
      return [];
    }
    return this.addHole(symbol, { from: firstId, to: backfill.beforeId - 1 });
  }

  /** A request failed; the symbol waits until `retryAt` (default: its backoff) before the next. */
  onFailed(symbol: string, now: number, retryAt?: number): void {
    const state = this.stateOf(symbol);
    state.inFlight = false;
    state.failures++;
    state.retryAt = retryAt ?? now + this.options.retryDelay(state.failures);
    this.unscheduleIfDone(symbol, state);
  }

  status(): RepairStatus {
    return { symbols: this.order.length, ids: this.pendingIds };
  }

  /** Ids of `symbol` still waiting for repair. */
  pending(symbol: string): IdRange[] {
    return [...(this.symbols.get(symbol)?.holes ?? [])];
  }

  private requestFor(symbol: string, state: SymbolRepair): RepairRequest {
    if (state.backfill !== undefined) return { kind: 'find-start', symbol, startTime: state.backfill.sinceMs };
    // One request covers every hole within a batch's reach (a queue that overflowed leaves
    // many small ones); the ids in between come back too and are left out.
    const from = (state.holes[0] as IdRange).from;
    const reach = from + this.options.batchLimit - 1;
    let to = from;
    for (const hole of state.holes) {
      if (hole.from > reach) break;
      to = Math.min(hole.to, reach);
    }
    return { kind: 'fetch', symbol, fromId: from, limit: to - from + 1 };
  }

  /** An empty answer: retried, and after `maxEmptyAnswers` in a row the hole is given up. */
  private onEmpty(symbol: string, state: SymbolRepair, fromId: number, now: number): IdRange[] {
    state.emptyAnswers++;
    if (state.emptyAnswers < (this.options.maxEmptyAnswers ?? 3)) {
      state.retryAt = now + this.options.retryDelay(state.emptyAnswers);
      return [];
    }
    state.emptyAnswers = 0;
    const hole = state.holes.find((h) => h.to >= fromId);
    if (hole === undefined) return [];
    const { ranges, within } = removeRange(state.holes, { from: fromId, to: hole.to });
    state.holes = ranges;
    this.pendingIds -= totalSize(within);
    this.unscheduleIfDone(symbol, state);
    return within;
  }

  private stateOf(symbol: string): SymbolRepair {
    let state = this.symbols.get(symbol);
    if (state === undefined) {
      state = { holes: [], inFlight: false, scheduled: false, failures: 0, emptyAnswers: 0, retryAt: 0 };
      this.symbols.set(symbol, state);
    }
    return state;
  }

  private schedule(symbol: string): void {
    const state = this.symbols.get(symbol) as SymbolRepair;
    if (state.scheduled) {
      this.unscheduleIfDone(symbol, state);
    } else if (state.holes.length > 0 || state.backfill !== undefined) {
      state.scheduled = true;
      this.order.push(symbol);
    }
  }

  private unscheduleIfDone(symbol: string, state: SymbolRepair): void {
    if (!state.scheduled || state.holes.length > 0 || state.backfill !== undefined || state.inFlight) return;
    state.scheduled = false;
    const index = this.order.indexOf(symbol);
    this.order.splice(index, 1);
    if (index < this.cursor) this.cursor--;
    if (this.cursor >= this.order.length) this.cursor = 0;
  }
}
