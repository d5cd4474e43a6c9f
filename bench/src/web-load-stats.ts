/**
 * The arithmetic of the web load step, apart from its sockets: which source addresses
 * clients use, and what the gaps between pushes look like.
 */
import { percentile } from './percentiles.js';

/**
 * `count` loopback addresses for clients, `perAddress` clients each: 127.<base>.x.y from
 * x.y = 0.1 on (Linux answers all of 127.0.0.0/8 on `lo`, so each is a client address of
 * its own to the server's per-address limit).
 */
export function sourceAddresses(count: number, perAddress: number, base: number): string[] {
  const addresses = Math.ceil(count / perAddress);
  if (addresses > 65_000) throw new RangeError(`${addresses} addresses do not fit in 127.${base}.0.0/16`);
  return Array.from({ length: count }, (_, i) => {
    const n = Math.floor(i / perAddress) + 1;
    return `127.${base}.${n >> 8}.${n & 0xff}`;
  });
}

export interface Gaps {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/**
 * The gaps (ms) between consecutive arrivals of each series, pooled: one series per
 * client, arrival times in ms. Only gaps that end inside `[from, to]` count.
 */
export function arrivalGaps(series: readonly (readonly number[])[], from: number, to: number): Gaps {
  const gaps: number[] = [];
  for (const times of series) {
    for (let i = 1; i < times.length; i++) {
      const end = times[i] as number;
      if (end >= from && end <= to) gaps.push(end - (times[i - 1] as number));
    }
  }
  gaps.sort((a, b) => a - b);
  return {
    count: gaps.length,
    p50: percentile(gaps, 50),
    p99: percentile(gaps, 99),
    max: gaps.at(-1) ?? Number.NaN,
  };
}

/** The soft limit on open files from the text of `/proc/self/limits`, or undefined when unlimited or absent. */
export function openFilesLimit(limitsText: string): number | undefined {
  const soft = /^Max open files\s+(\S+)/m.exec(limitsText)?.[1];
  return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
}
