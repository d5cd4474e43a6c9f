/**
 * The query the aggregator runs when it is assigned partitions: each symbol's latest final
 * window start (Unix seconds), so that windows already closed are not opened again.
 */
export const finalWindowsQuery =
  'SELECT symbol, toUInt32(max(window_start)) AS start FROM trade_windows WHERE is_final = 1 GROUP BY symbol';
