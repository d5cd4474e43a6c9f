/**
 * `npm run bench:windows -w web`: latency of `GET /api/windows` for 6 h of one symbol,
 * through the real HTTP API, against the database `bench:data` fills (30 days x 20
 * symbols of 10 s windows): ranges ending at the latest window (what the page asks for;
 * served from the server's recent-candle cache) and random ranges of the 30 days (read
 * from ClickHouse with FINAL). While it measures, a writer rewrites every symbol's open
 * window once a second, as the aggregator does, so ClickHouse keeps merging new parts.
 *
 * The server runs as its own process (`web/server/main.ts`), as in production, so the
 * client's work does not share its event loop.
 *
 * Options: --requests N (200), --database NAME (candleflow_bench), --no-writes.
 * Prints p50/p95/p99 for the live edge and for random 6 h ranges, and writes them to
 * .local/bench/web-windows-latency.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createClient } from '@clickhouse/client';
import { commonEnv, findProjectRoot, loadEnv } from '@candleflow/common/env';
import { benchSymbols } from './bench-symbols.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '200' },
    database: { type: 'string' },
    'no-writes': { type: 'boolean', default: false },
  },
});
const requests = Number(values.requests);
if (!Number.isInteger(requests) || requests < 10) throw new Error('--requests: expected an integer of at least 10');
const env = loadEnv({
  CLICKHOUSE_URL: commonEnv.CLICKHOUSE_URL,
  CLICKHOUSE_USER: commonEnv.CLICKHOUSE_USER,
  CLICKHOUSE_PASSWORD: commonEnv.CLICKHOUSE_PASSWORD,
});
const database = values.database ?? process.env.BENCH_DB ?? 'candleflow_bench';
const symbols = Object.keys(benchSymbols);
const sixHours = 6 * 3600_000;

/** Starts `npm run web`'s entry point on a free loopback port; resolves with its URL. */
async function startServerProcess() {
  const root = findProjectRoot();
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', path.join(root, 'web', 'server', 'main.ts')],
    {
      cwd: root,
      env: {
        ...process.env,
        WEB_HOST: '127.0.0.1',
        WEB_PORT: '0',
        CLICKHOUSE_URL: env.CLICKHOUSE_URL,
        CLICKHOUSE_USER: env.CLICKHOUSE_USER,
        CLICKHOUSE_PASSWORD: env.CLICKHOUSE_PASSWORD,
        CLICKHOUSE_DB: database,
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const found = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(output);
      if (found?.[1]) resolve(found[1]);
    });
    child.once('exit', (code) => reject(new Error(`the web server exited (${code}): ${output}`)));
  });
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const server = await startServerProcess();
const db = createClient({
  url: env.CLICKHOUSE_URL,
  username: env.CLICKHOUSE_USER,
  password: env.CLICKHOUSE_PASSWORD,
  database,
});

const summary = (await (await fetch(`${server.url}/api/symbols`)).json()) as {
  symbols: { symbol: string; lastWindowStart: number }[];
};
const latest = new Map(summary.symbols.map((s) => [s.symbol, s.lastWindowStart]));
if (latest.size < symbols.length)
  throw new Error(`${database} has ${latest.size} symbols; run npm run bench:data -w web first`);
const newest = Math.max(...latest.values());

// The aggregator's load: every symbol's open window rewritten once a second.
let writing = !values['no-writes'];
let rewrites = 0;
const writer = (async () => {
  let version = 1;
  while (writing) {
    const startS = Math.floor(newest / 1000);
    const rows = symbols.map((symbol) => {
      const price = benchSymbols[symbol] ?? 1;
      return {
        symbol,
        window_start: startS,
        open: price,
        high: price * 1.001,
        low: price * 0.999,
        close: price,
        volume: version,
        quote_volume: version * price,
        vwap: price,
        trades: version,
        buy_volume: version / 2,
        sell_volume: version / 2,
        first_trade_id: 1,
        last_trade_id: version,
        is_final: 0,
        version: 1000 + version,
      };
    });
    await db.insert({ table: 'trade_windows', values: rows, format: 'JSONEachRow' });
    rewrites++;
    version++;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
})();

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function measure(label: string, paths: string[]) {
  const times: number[] = [];
  let rows = 0;
  let bytes = 0;
  for (const p of paths) {
    const t = performance.now();
    const response = await fetch(`${server.url}${p}`);
    const body = await response.text();
    times.push(performance.now() - t);
    if (response.status !== 200) throw new Error(`${p}: HTTP ${response.status} ${body}`);
    rows += (JSON.parse(body) as { windows: unknown[] }).windows.length;
    bytes += body.length;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const result = {
    label,
    requests: times.length,
    p50_ms: +percentile(sorted, 50).toFixed(1),
    p95_ms: +percentile(sorted, 95).toFixed(1),
    p99_ms: +percentile(sorted, 99).toFixed(1),
    max_ms: +(sorted[sorted.length - 1] ?? 0).toFixed(1),
    mean_rows: Math.round(rows / times.length),
    mean_kb: Math.round(bytes / times.length / 1024),
  };
  console.log(
    `${label.padEnd(34)} n=${result.requests}  p50 ${result.p50_ms} ms  p95 ${result.p95_ms} ms  p99 ${result.p99_ms} ms  max ${result.max_ms} ms  (${result.mean_rows} rows, ${result.mean_kb} KB)`,
  );
  return result;
}

// Deterministic "random" choices, so runs are comparable.
let seed = 12345;
const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = () => symbols[Math.floor(next() * symbols.length)] ?? 'BTCUSDT';

const edge = () => {
  const symbol = pick();
  return `/api/windows?symbol=${symbol}&from=${(latest.get(symbol) ?? newest) + 10_000 - sixHours}`;
};
const historical = () => {
  const to = newest - Math.floor(next() * 29 * 24) * 3600_000;
  return `/api/windows?symbol=${pick()}&from=${to - sixHours}&to=${to}`;
};

await measure('warm-up', Array.from({ length: 20 }, edge));
const results = [
  await measure('6 h ending at the latest window', Array.from({ length: requests }, edge)),
  await measure('6 h anywhere in the 30 days', Array.from({ length: requests }, historical)),
];
writing = false;
await writer;
await db.close();
await server.close();

const out = path.join(findProjectRoot(), '.local', 'bench', 'web-windows-latency.json');
mkdirSync(path.dirname(out), { recursive: true });
// Other work on the machine shows in the tail latencies; the load average says how much there was.
const loadAverage = os.loadavg().map((l) => +l.toFixed(2));
writeFileSync(out, JSON.stringify({ at: new Date().toISOString(), database, rewrites, loadAverage, results }, null, 2));
console.log(`load average (1, 5, 15 min): ${loadAverage.join(', ')}`);
console.log(`open-window rewrites during the run: ${rewrites}; results in ${path.relative(process.cwd(), out)}`);
const worst = Math.max(...results.map((r) => r.p95_ms));
console.log(worst < 50 ? `p95 ${worst} ms: under the 50 ms target` : `p95 ${worst} ms: OVER the 50 ms target`);
