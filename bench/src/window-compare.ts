/** A 10-second window as each implementation's tables give it back, in one shape. */
export interface BenchWindow {
  symbol: string;
  windowStartMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  buyVolume: number;
  sellVolume: number;
  trades: number;
  firstTradeId: number;
  lastTradeId: number;
}

/** Fields that must be equal exactly: counts, ids and prices (all exact decimals of the input). */
const EXACT_FIELDS = ['open', 'high', 'low', 'close', 'trades', 'firstTradeId', 'lastTradeId'] as const;
/** Sums of decimals, compared within a relative tolerance. */
const SUM_FIELDS = ['volume', 'quoteVolume', 'buyVolume', 'sellVolume'] as const;

export type WindowField = (typeof EXACT_FIELDS)[number] | (typeof SUM_FIELDS)[number];

export interface WindowMismatch {
  window: string;
  field: WindowField | 'missing' | 'extra';
  expected: number | null;
  actual: number | null;
}

export interface WindowComparison {
  /** Windows of the reference that were compared. */
  compared: number;
  /** Of those, equal in every field. */
  equal: number;
  /** Reference windows the candidate lacks. */
  missing: number;
  /** Candidate windows the reference does not have at all. */
  extra: number;
  /** Windows with at least one differing field. */
  different: number;
  /** The first few differences, for the report. */
  examples: WindowMismatch[];
}

export function windowKey(w: Pick<BenchWindow, 'symbol' | 'windowStartMs'>): string {
  return `${w.symbol}@${new Date(w.windowStartMs).toISOString()}`;
}

/**
 * Whether two sums of the same decimals agree: within `relative` of the window's total
 * (volume, or quote volume), since a difference of two float sums, like sell = volume -
 * buy, can be near zero and still be right to 1e-16 of the total.
 */
function sumsAgree(a: number, b: number, scale: number, relative: number): boolean {
  if (a === b) return true;
  return Math.abs(a - b) <= relative * Math.max(Math.abs(a), Math.abs(b), scale);
}

/**
 * Compares a candidate's windows with the reference's: counts, ids and OHLC exactly,
 * volumes within `relative` (default 1e-9). `include` limits the comparison to reference
 * windows it accepts (e.g. the ones a slow implementation had fully read); a candidate
 * window the reference does not have at all is always reported as extra.
 */
export function compareWindows(
  reference: readonly BenchWindow[],
  candidate: readonly BenchWindow[],
  options: { relative?: number; include?: (w: BenchWindow) => boolean; maxExamples?: number } = {},
): WindowComparison {
  const relative = options.relative ?? 1e-9;
  const maxExamples = options.maxExamples ?? 5;
  const include = options.include ?? (() => true);
  const byKey = new Map(candidate.map((w) => [windowKey(w), w]));
  const result: WindowComparison = { compared: 0, equal: 0, missing: 0, extra: 0, different: 0, examples: [] };
  const note = (mismatch: WindowMismatch): void => {
    if (result.examples.length < maxExamples) result.examples.push(mismatch);
  };
  const referenceKeys = new Set(reference.map(windowKey));
  for (const expected of reference) {
    if (!include(expected)) continue;
    const key = windowKey(expected);
    result.compared++;
    const actual = byKey.get(key);
    if (!actual) {
      result.missing++;
      note({ window: key, field: 'missing', expected: expected.trades, actual: null });
      continue;
    }
    let same = true;
    for (const field of EXACT_FIELDS) {
      if (expected[field] !== actual[field]) {
        same = false;
        note({ window: key, field, expected: expected[field], actual: actual[field] });
      }
    }
    for (const field of SUM_FIELDS) {
      const scale = Math.abs(field === 'quoteVolume' ? expected.quoteVolume : expected.volume);
      if (!sumsAgree(expected[field], actual[field], scale, relative)) {
        same = false;
        note({ window: key, field, expected: expected[field], actual: actual[field] });
      }
    }
    if (same) result.equal++;
    else result.different++;
  }
  for (const w of candidate) {
    if (referenceKeys.has(windowKey(w))) continue;
    result.extra++;
    note({ window: windowKey(w), field: 'extra', expected: null, actual: w.trades });
  }
  return result;
}

/**
 * For a candidate that read a prefix of each symbol's trades (a bounded catch-up): whether
 * it read a reference window in full, i.e. reached the window's last trade id.
 */
export function readInFull(candidate: readonly BenchWindow[]): (w: BenchWindow) => boolean {
  const reached = new Map<string, number>();
  for (const w of candidate) reached.set(w.symbol, Math.max(reached.get(w.symbol) ?? 0, w.lastTradeId));
  return (w) => w.lastTradeId <= (reached.get(w.symbol) ?? -1);
}
