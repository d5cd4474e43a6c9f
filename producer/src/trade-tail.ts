import { missingIds } from './id-ranges.js';
import type { IdRange } from './trade-continuity.js';

/**
 * Where each symbol's trades stand on the trades topic, worked out at start from the
 * end of the topic, read backwards in chunks. Pure: the caller reads the chunks.
 *
 * On the topic, a symbol's streamed trades ascend (the stream only moves forward), and
 * so do its repaired ones (`source: rest`; holes are filled lowest first, and every new
 * hole lies above all earlier ones), each repaired trade coming after the streamed one
 * that revealed its hole. So once the chunks read hold a streamed trade at or below
 * one more than the highest repaired id, every id above that streamed trade that was
 * ever published is in them: the ids absent there are exactly the holes still open
 * when the producer stopped (a repair cut short, or a trade never acknowledged). A hole
 * older than the chunks read whose repair had not begun cannot be seen; the chunks
 * reach back at least one chunk, and a repair begins within seconds of its hole.
 */

/** One trade record of the topic, as the tail reader decoded it. */
export interface TailRecord {
  offset: number;
  /** Undefined when the record is not a valid trade keyed by its symbol. */
  symbol: string | undefined;
  tradeId: number;
  /** Header `source: rest`. */
  rest: boolean;
  /** The record's timestamp (ms). */
  timestamp: number;
}

export type SymbolTail =
  /** The topic's last id for the symbol, and the ids below it still missing. */
  | { kind: 'found'; lastId: number; holes: IdRange[] }
  /**
   * Not in what was read. `notBeforeMs`: the scan stopped at its bound with records this
   * old, so any history to fill should not reach before them.
   */
  | { kind: 'absent'; notBeforeMs?: number };

interface SymbolScan {
  ids: number[];
  maxStream?: number;
  minStream?: number;
  maxRest?: number;
  settled: boolean;
}

interface PartitionScan {
  symbols: Map<string, SymbolScan>;
  reachedStart: boolean;
  oldestTimestamp?: number;
}

export class TailScan {
  private readonly partitions = new Map<number, PartitionScan>();

  /** `partitionOf` says where each symbol's records are (the producer keys by symbol). */
  constructor(symbols: readonly string[], partitionCount: number, partitionOf: (symbol: string) => number) {
    for (let p = 0; p < partitionCount; p++) this.partitions.set(p, { symbols: new Map(), reachedStart: false });
    for (const symbol of symbols) {
      this.partitions.get(partitionOf(symbol))?.symbols.set(symbol, { ids: [], settled: false });
    }
  }

  /** Partitions that hold configured symbols not settled yet. */
  get wanted(): number[] {
    return [...this.partitions].filter(([, p]) => this.wants(p)).map(([id]) => id);
  }

  /**
   * The records of one chunk of `partition` (any order), the next older than the chunks
   * before. `reachedStart`: nothing older is left on the partition.
   */
  addChunk(partition: number, records: readonly TailRecord[], reachedStart: boolean): void {
    const scan = this.partitions.get(partition);
    if (scan === undefined) return;
    for (const record of records) {
      scan.oldestTimestamp = Math.min(scan.oldestTimestamp ?? record.timestamp, record.timestamp);
      const state = record.symbol === undefined ? undefined : scan.symbols.get(record.symbol);
      if (state === undefined || state.settled) continue;
      state.ids.push(record.tradeId);
      if (record.rest) {
        state.maxRest = Math.max(state.maxRest ?? record.tradeId, record.tradeId);
      } else {
        state.maxStream = Math.max(state.maxStream ?? record.tradeId, record.tradeId);
        state.minStream = Math.min(state.minStream ?? record.tradeId, record.tradeId);
      }
    }
    // Settled per chunk, not per record: a whole chunk shows the recent holes too.
    for (const state of scan.symbols.values()) {
      if (state.settled || state.maxStream === undefined) continue;
      state.settled = state.maxRest === undefined || (state.minStream as number) <= state.maxRest + 1;
    }
    scan.reachedStart ||= reachedStart;
  }

  /** Each configured symbol's standing, from what was read. */
  result(): Map<string, SymbolTail> {
    const out = new Map<string, SymbolTail>();
    for (const scan of this.partitions.values()) {
      for (const [symbol, state] of scan.symbols) {
        if (state.ids.length === 0) {
          out.set(
            symbol,
            scan.reachedStart || scan.oldestTimestamp === undefined
              ? { kind: 'absent' }
              : { kind: 'absent', notBeforeMs: scan.oldestTimestamp },
          );
          continue;
        }
        const ids = [...state.ids].sort((a, b) => a - b);
        const lastId = ids.at(-1) as number;
        const from = state.minStream ?? (ids[0] as number);
        out.set(symbol, { kind: 'found', lastId, holes: missingIds(ids, { from, to: lastId }) });
      }
    }
    return out;
  }

  private wants(scan: PartitionScan): boolean {
    if (scan.reachedStart) return false;
    for (const state of scan.symbols.values()) if (!state.settled) return true;
    return false;
  }
}
