/**
 * `npm run bench:data -w web`: fills a ClickHouse database (default `candleflow_bench`)
 * with 30 days of 10 s windows for 20 symbols (5 184 000 rows), generated inside
 * ClickHouse with INSERT ... SELECT from numbers(). The last 6 hours also get the
 * earlier, still-open versions of each window, as the aggregator writes them, so reads
 * with FINAL have rewrites to collapse. Months before the current one are merged, as
 * background merges would have left them after 30 days. Re-running replaces the data.
 *
 * Options: --database NAME (or BENCH_DB), CLICKHOUSE_URL / USER / PASSWORD from the environment.
 */
import { parseArgs } from 'node:util';
import { createClient } from '@clickhouse/client';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { commonEnv, loadEnv } from '@candleflow/common/env';
import { stringLiteral } from '../server/sql.js';
import { benchDays, benchSymbols, windowsPerDay } from './bench-symbols.js';

const { values } = parseArgs({ options: { database: { type: 'string' } } });
const env = loadEnv({
  CLICKHOUSE_URL: commonEnv.CLICKHOUSE_URL,
  CLICKHOUSE_USER: commonEnv.CLICKHOUSE_USER,
  CLICKHOUSE_PASSWORD: commonEnv.CLICKHOUSE_PASSWORD,
});
const database = values.database ?? process.env.BENCH_DB ?? 'candleflow_bench';
if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database))
  throw new Error(`--database: expected a plain identifier, got ${database}`);

const auth = { url: env.CLICKHOUSE_URL, username: env.CLICKHOUSE_USER, password: env.CLICKHOUSE_PASSWORD };
const server = createClient(auth);
await server.command({ query: `DROP DATABASE IF EXISTS ${database}` });
await server.close();
await migrate({ ...auth, database });
const client = createClient({
  ...auth,
  database,
  request_timeout: 600_000,
  // Keeps the connection visibly alive during the long INSERT ... SELECT.
  clickhouse_settings: { send_progress_in_http_headers: 1, http_headers_progress_interval_ms: '5000' },
});

const perSymbol = benchDays * windowsPerDay;
const end = Math.floor(Date.now() / 10_000) * 10; // seconds, window-aligned
const start = end - perSymbol * 10;
const names = Object.keys(benchSymbols);
const prices = Object.values(benchSymbols);
const symbolArray = `[${names.map(stringLiteral).join(', ')}]`;
const priceArray = `[${prices.map((p) => String(p)).join(', ')}]`;

/**
 * Row `number` of `numbers(...)`: symbol intDiv(number, perSymbol), window number % perSymbol.
 * Prices follow slow and fast waves plus hash noise; everything is deterministic.
 */
function windowSelect(isFinal: boolean, fromWindow: number): string {
  const count = perSymbol - fromWindow;
  return `
    SELECT
      arrayElement(${symbolArray}, toUInt32(intDiv(number, ${count}) + 1)) AS symbol,
      toDateTime(${start} + (${fromWindow} + number % ${count}) * 10) AS window_start,
      arrayElement(${priceArray}, toUInt32(intDiv(number, ${count}) + 1)) AS base,
      (${fromWindow} + number % ${count}) AS i,
      base * (1 + 0.06 * sin(i / 4000) + 0.01 * sin(i / 97)) AS mid,
      (sipHash64(number, 1) % 1000) / 1000 - 0.5 AS n1,
      (sipHash64(number, 2) % 1000) / 1000 AS n2,
      -- Prices on a tick of about six significant digits and quantities on a lot size,
      -- as Binance's are; VWAP and quote volume are derived, so full precision.
      pow(10, least(8, greatest(2, 5 - floor(log10(base))))) AS tick,
      pow(10, least(8, greatest(0, floor(log10(base)) + 1))) AS lot,
      round(mid * (1 + n1 * 0.0008) * tick) / tick AS open,
      round(mid * (1 - n1 * 0.0008) * tick) / tick AS close,
      round(greatest(open, close) * (1 + n2 * 0.0005) * tick) / tick AS high,
      round(least(open, close) * (1 - n2 * 0.0005) * tick) / tick AS low,
      (round((sipHash64(number, 3) % 10000) / 100 / base * 3000 * lot) + 1) / lot AS volume,
      (open + close + high + low) / 4 AS vwap,
      toUInt32(1 + sipHash64(number, 4) % ${isFinal ? 80 : 40}) AS trades
    FROM numbers(${names.length * count})`;
}

function insertWindows(isFinal: boolean, fromWindow: number): string {
  return `
    INSERT INTO trade_windows (symbol, window_start, open, high, low, close, volume, quote_volume, vwap, trades,
      buy_volume, sell_volume, first_trade_id, last_trade_id, is_final, version)
    SELECT symbol, window_start, open, high, low, close, volume, volume * vwap, vwap, trades,
      round(volume * 0.55 * lot) / lot, (round(volume * lot) - round(volume * 0.55 * lot)) / lot, i * 100, i * 100 + trades - 1, ${isFinal ? 1 : 0},
      ${isFinal ? '4294967296 + ' : ''}trades
    FROM (${windowSelect(isFinal, fromWindow)})`;
}

const started = performance.now();
console.log(`generating ${names.length} symbols x ${perSymbol} windows into ${database}.trade_windows...`);
await client.command({ query: insertWindows(true, 0) });
const recent = 6 * 360;
console.log(`adding the open versions of the last ${recent} windows per symbol...`);
await client.command({ query: insertWindows(false, perSymbol - recent) });
// Thirty days of running leave the older months merged into few parts by ClickHouse's
// background merges; do now what time would have done. The current month keeps its parts.
const partitions = await (
  await client.query({
    query: `SELECT DISTINCT partition FROM system.parts
      WHERE database = ${stringLiteral(database)} AND table = 'trade_windows' AND active ORDER BY partition`,
    format: 'JSONEachRow',
  })
).json<{ partition: string }>();
for (const { partition } of partitions.slice(0, -1)) {
  if (!/^\d{6}$/.test(partition)) throw new Error(`unexpected partition ${partition}`);
  console.log(`merging partition ${partition}...`);
  await client.command({ query: `OPTIMIZE TABLE trade_windows PARTITION ${partition} FINAL` });
}
const [stats] = await (
  await client.query({
    query: `SELECT count() AS rows, uniqExact(symbol) AS symbols, toUInt32(min(window_start)) AS first_s, toUInt32(max(window_start)) AS last_s,
      (SELECT count() FROM system.parts WHERE database = ${stringLiteral(database)} AND table = 'trade_windows' AND active) AS parts
      FROM trade_windows`,
    format: 'JSONEachRow',
  })
).json<{ rows: string; symbols: string; first_s: number; last_s: number; parts: string }>();
await client.close();
console.log(
  `done in ${((performance.now() - started) / 1000).toFixed(1)} s: ${stats?.rows} rows, ${stats?.symbols} symbols, ` +
    `${new Date((stats?.first_s ?? 0) * 1000).toISOString()} .. ${new Date((stats?.last_s ?? 0) * 1000).toISOString()}, ${stats?.parts} parts`,
);
