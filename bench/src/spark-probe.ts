import { distribution, type Distribution } from './percentiles.js';

/**
 * Trade-to-row latency of the Spark peer. In catch-up every stored trade is old, so after
 * it the bench sends a few live trades of a symbol of its own (this one) on a topic the
 * job also reads, and times their windows' rows. They also move the watermark past the
 * stored trades, which closes (and so writes) the last stored windows, as the project's
 * idle timer does.
 */
export const SPARK_PROBE_SYMBOL = 'BENCHPROBE';

export interface ProbeTrade {
  id: number;
  timeMs: number;
}

/** A probe trade as Binance sends trades (the job reads nothing else). */
export function probeTradeJson(trade: ProbeTrade): string {
  return JSON.stringify({
    e: 'trade',
    E: trade.timeMs,
    s: SPARK_PROBE_SYMBOL,
    t: trade.id,
    p: '1.00000000',
    q: '0.00100000',
    T: trade.timeMs,
    m: false,
    M: true,
  });
}

export interface ProbeLatency {
  /** Window end + grace -> the window's row readable, per probe window the watermark passed. */
  finalAfterClose: Distribution;
  /** Probe trade -> its window's row readable. */
  finalFromTrade: Distribution;
}

/**
 * Latencies from the probe trades sent and when each probe window's row was first seen.
 * Only windows whose end + grace is at most the last probe trade's time count: the
 * watermark (latest trade time - grace) passed their end; a later window cannot close.
 */
export function probeLatency(
  trades: readonly ProbeTrade[],
  firstSeenAtMs: ReadonlyMap<number, number>,
  windowMs: number,
  graceMs: number,
): ProbeLatency {
  const latest = Math.max(...trades.map((t) => t.timeMs));
  const startOf = (timeMs: number): number => Math.floor(timeMs / windowMs) * windowMs;
  const closeOf = (start: number): number => start + windowMs + graceMs;
  const closable = (start: number): boolean => closeOf(start) <= latest;
  const starts = [...new Set(trades.map((t) => startOf(t.timeMs)))].filter(closable);
  const seen = (start: number): number | undefined => firstSeenAtMs.get(start);
  const after = (at: number | undefined, from: number): number | undefined =>
    at === undefined ? undefined : at - from;
  return {
    finalAfterClose: distribution(starts.map((start) => after(seen(start), closeOf(start)))),
    finalFromTrade: distribution(
      trades.filter((t) => closable(startOf(t.timeMs))).map((t) => after(seen(startOf(t.timeMs)), t.timeMs)),
    ),
  };
}
