import type { IdRange } from './trade-continuity.js';

/**
 * Sets of trade ids kept as sorted, disjoint, non-adjacent ranges: what the repair still
 * has to fetch, and what a topic's tail lacks. Pure; every function returns new arrays.
 */

export function rangeSize(range: IdRange): number {
  return range.to - range.from + 1;
}

export function totalSize(ranges: readonly IdRange[]): number {
  let n = 0;
  for (const r of ranges) n += rangeSize(r);
  return n;
}

/** The union of `ranges` and `added`, merged where they overlap or touch. */
export function addRange(ranges: readonly IdRange[], added: IdRange): IdRange[] {
  if (added.to < added.from) return [...ranges];
  const out: IdRange[] = [];
  let merged = { ...added };
  let placed = false;
  for (const r of ranges) {
    if (r.to + 1 < merged.from) {
      out.push(r);
    } else if (merged.to + 1 < r.from) {
      if (!placed) out.push(merged);
      placed = true;
      out.push(r);
    } else {
      merged = { from: Math.min(r.from, merged.from), to: Math.max(r.to, merged.to) };
    }
  }
  if (!placed) out.push(merged);
  return out;
}

/** `ranges` without the ids of `removed`; `within` lists the ids that were taken out. */
export function removeRange(ranges: readonly IdRange[], removed: IdRange): { ranges: IdRange[]; within: IdRange[] } {
  const out: IdRange[] = [];
  const within: IdRange[] = [];
  for (const r of ranges) {
    if (r.to < removed.from || r.from > removed.to) {
      out.push(r);
      continue;
    }
    if (r.from < removed.from) out.push({ from: r.from, to: removed.from - 1 });
    within.push({ from: Math.max(r.from, removed.from), to: Math.min(r.to, removed.to) });
    if (r.to > removed.to) out.push({ from: removed.to + 1, to: r.to });
  }
  return { ranges: out, within };
}

/** Takes `count` ids off the low end of `ranges`; `taken` lists them. */
export function takeLowest(ranges: readonly IdRange[], count: number): { ranges: IdRange[]; taken: IdRange[] } {
  const out: IdRange[] = [];
  const taken: IdRange[] = [];
  let left = count;
  for (const r of ranges) {
    if (left <= 0) {
      out.push(r);
      continue;
    }
    const size = rangeSize(r);
    if (size <= left) {
      taken.push(r);
      left -= size;
    } else {
      taken.push({ from: r.from, to: r.from + left - 1 });
      out.push({ from: r.from + left, to: r.to });
      left = 0;
    }
  }
  return { ranges: out, taken };
}

/** The ids of `span` absent from `ids` (sorted ascending; duplicates and ids outside `span` allowed). */
export function missingIds(ids: readonly number[], span: IdRange): IdRange[] {
  const out: IdRange[] = [];
  let next = span.from;
  for (const id of ids) {
    if (id < next) continue;
    if (id > span.to) break;
    if (id > next) out.push({ from: next, to: id - 1 });
    next = id + 1;
  }
  if (next <= span.to) out.push({ from: next, to: span.to });
  return out;
}
