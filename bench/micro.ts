/**
 * `npm run bench -- --micro`: the hot paths on one core, each on generated input: the
 * window engine, order-book apply, JSON parse + row building, and ClickHouse inserts per
 * batch size. Prints a markdown table and writes bench/results/micro-<date>.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from '@clickhouse/client';
import { TumblingWindows, type Trade } from '@candleflow/aggregator/tumbling-window';
import { inputTable, rowJson, tradeRowsBinary, updateRowsBinary } from '@candleflow/aggregator/clickhouse-records';
import { insertRows } from '@candleflow/aggregator/clickhouse-sink';
import { updateRecords, type UpdateRecord } from '@candleflow/aggregator/orderbook-rows';
import {
  parseDepthMessage,
  parseTradeMessage,
  type RecordEnvelope,
  type TradeMessage,
} from '@candleflow/aggregator/topic-messages';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { parseUnits } from '@candleflow/common/decimal';
import { commonEnv, findProjectRoot, loadEnv } from '@candleflow/common/env';
import type { PriceLevel } from '@candleflow/common/binance-events';
import { OrderBook } from '@candleflow/common/order-book';
import { uniqueName } from '@candleflow/common/testing';
import type { MicroOptions } from './src/cli-options.js';
import { SeededRandom } from '@candleflow/binance-sim/seeded-random';

export interface MicroResult {
  name: string;
  /** Operations per second (best of the repetitions). */
  perSecond: number;
  unit: string;
  detail: string;
}

/** Runs `work` (which does `ops` operations) `repeat` times; the best rate wins (least disturbed by other load). */
function measure(repeat: number, ops: number, work: () => void): number {
  let best = 0;
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    work();
    const seconds = (performance.now() - t0) / 1000;
    best = Math.max(best, ops / seconds);
  }
  return best;
}

const SYMBOLS = Array.from({ length: 50 }, (_, i) => `SYM${i}USDT`);
/** Rows per trades insert in the parse-and-encode case (the aggregator's BATCH_ROWS order of magnitude). */
const INSERT_ROWS = 10_000;

/** Encodes `trades` as one insert's RowBinary body and empties the list; the rows encoded. */
function encoded(trades: TradeMessage[]): number {
  const rows = tradeRowsBinary(trades).length > 0 ? trades.length : 0;
  trades.length = 0;
  return rows;
}

function price(rng: SeededRandom): string {
  return (100 + rng.next() * 50).toFixed(2);
}

function tradeJson(rng: SeededRandom, id: number, timeMs: number): string {
  const symbol = SYMBOLS[id % SYMBOLS.length] ?? 'SYM0USDT';
  // Never 0: the input contract refuses a trade without quantity.
  const qty = (0.00001 + rng.next() * 2).toFixed(5);
  return `{"e":"trade","E":${timeMs + 3},"s":"${symbol}","t":${id},"p":"${price(rng)}","q":"${qty}","T":${timeMs},"m":${rng.next() < 0.5},"M":true}`;
}

/** The record around a message, as the producer writes it: keyed by symbol, stamped when written. */
function envelopeOf(message: Buffer): RecordEnvelope {
  const symbol = /"s":"([A-Z0-9]+)"/.exec(message.toString('latin1'))?.[1] ?? '';
  return { key: Buffer.from(symbol), timestampMs: Date.now() };
}

function levels(rng: SeededRandom, count: number, remove: number): PriceLevel[] {
  return Array.from({ length: count }, () => [
    price(rng),
    rng.next() < remove ? '0.00000000' : (rng.next() * 5).toFixed(8),
  ]);
}

function windowEngine(quick: boolean): MicroResult {
  const count = quick ? 200_000 : 1_000_000;
  const rng = new SeededRandom(7);
  const startMs = 1_700_000_000_000;
  const trades: Trade[] = Array.from({ length: count }, (_, i) => ({
    symbol: SYMBOLS[i % SYMBOLS.length] ?? 'SYM0USDT',
    tradeId: i,
    price: parseUnits(price(rng)),
    qty: parseUnits((rng.next() * 2).toFixed(5)),
    // 20,000 trades a second of trade time: windows open and close as in a busy market.
    tradeTimeMs: startMs + Math.floor(i / 20),
    isBuyerMaker: rng.next() < 0.5,
  }));
  let rows = 0;
  const perSecond = measure(3, count, () => {
    const engine = new TumblingWindows({ windowMs: 10_000, graceMs: 2000, idleMs: 3000 });
    for (const [i, trade] of trades.entries()) {
      engine.add(i % 6, i, trade, 0);
      // The aggregator takes open rows once a second of wall time: here every 20,000 trades.
      if (i % 20_000 === 19_999) rows += engine.takeOpenRows().length + engine.takeFinalRows().length;
    }
  });
  return {
    name: 'window engine (TumblingWindows.add)',
    perSecond,
    unit: 'trades/s',
    detail: `${count.toLocaleString('en-US')} trades over ${SYMBOLS.length} symbols, 6 partitions, ${rows} rows taken`,
  };
}

function orderBookApply(quick: boolean): MicroResult {
  const diffs = quick ? 20_000 : 100_000;
  const rng = new SeededRandom(11);
  const prepared = Array.from({ length: diffs }, () => ({ bids: levels(rng, 5, 0.3), asks: levels(rng, 5, 0.3) }));
  const perSecond = measure(3, diffs, () => {
    const book = new OrderBook('SYM0USDT');
    book.loadSnapshot(1, levels(new SeededRandom(3), 500, 0), levels(new SeededRandom(4), 500, 0));
    for (const [i, diff] of prepared.entries()) book.applyDiff(i + 2, diff.bids, diff.asks);
  });
  return {
    name: 'order book (OrderBook.applyDiff)',
    perSecond,
    unit: 'diffs/s',
    detail: `10 level changes a diff (30% removals) on a 1,000-level book: ${Math.round(perSecond * 10).toLocaleString('en-US')} levels/s`,
  };
}

function parseAndBuildTrades(quick: boolean): MicroResult {
  const count = quick ? 100_000 : 500_000;
  const rng = new SeededRandom(13);
  const messages = Array.from({ length: count }, (_, i) => Buffer.from(tradeJson(rng, i, 1_700_000_000_000 + i)));
  const envelopes = messages.map(envelopeOf);
  let rows = 0;
  const perSecond = measure(3, count, () => {
    // As the aggregator does: each message parsed as read, the rows encoded once per insert.
    const trades: TradeMessage[] = [];
    for (const [i, message] of messages.entries()) {
      const parsed = parseTradeMessage(message, envelopes[i] as RecordEnvelope);
      if (!parsed.ok) throw new Error(parsed.detail);
      trades.push(parsed.event);
      if (trades.length === INSERT_ROWS) rows += encoded(trades);
    }
    rows += encoded(trades);
  });
  return {
    name: 'trade JSON -> validated trade -> trades rows (RowBinary)',
    perSecond,
    unit: 'rows/s',
    detail: `${count.toLocaleString('en-US')} Binance trade messages, ${rows.toLocaleString('en-US')} rows built over 3 runs`,
  };
}

function parseAndBuildDepth(quick: boolean): MicroResult {
  const count = quick ? 20_000 : 100_000;
  const rng = new SeededRandom(17);
  const messages = Array.from({ length: count }, (_, i) =>
    Buffer.from(
      JSON.stringify({
        e: 'depthUpdate',
        E: 1_700_000_000_000 + i,
        s: 'SYM0USDT',
        U: i * 2,
        u: i * 2 + 1,
        b: levels(rng, 5, 0.3),
        a: levels(rng, 5, 0.3),
      }),
    ),
  );
  let rows = 0;
  const envelopes = messages.map(envelopeOf);
  const perMessage = measure(3, count, () => {
    // As the aggregator does: rows built per message, encoded once per insert.
    let records: UpdateRecord[] = [];
    for (const [i, message] of messages.entries()) {
      const parsed = parseDepthMessage(message, envelopes[i] as RecordEnvelope);
      if (!parsed.ok) throw new Error(parsed.detail);
      if (parsed.event.e !== 'depthUpdate') throw new Error('expected a depthUpdate');
      records.push(...updateRecords(parsed.event));
      if (records.length >= INSERT_ROWS) {
        rows += updateRowsBinary(records).length > 0 ? records.length : 0;
        records = [];
      }
    }
    rows += updateRowsBinary(records).length > 0 ? records.length : 0;
  });
  return {
    name: 'depthUpdate JSON -> validated event -> orderbook_updates rows (RowBinary)',
    perSecond: (perMessage * rows) / (3 * count),
    unit: 'rows/s',
    detail: `${count.toLocaleString('en-US')} diffs of 10 levels: ${Math.round(perMessage).toLocaleString('en-US')} messages/s`,
  };
}

async function clickhouseInserts(quick: boolean): Promise<MicroResult[]> {
  const env = loadEnv({ CLICKHOUSE_URL: commonEnv.CLICKHOUSE_URL });
  const database = uniqueName('bench_micro');
  await migrate({ url: env.CLICKHOUSE_URL, database });
  const client = createClient({
    url: env.CLICKHOUSE_URL,
    database,
    request_timeout: 60_000,
    json: { parse: JSON.parse, stringify: rowJson },
  });
  const rng = new SeededRandom(19);
  const results: MicroResult[] = [];
  try {
    let nextId = 0;
    for (const batch of [100, 1_000, 10_000]) {
      const budgetMs = quick ? 2_000 : 6_000;
      const records = Array.from({ length: batch }, () => {
        const message = Buffer.from(tradeJson(rng, nextId, 1_700_000_000_000 + nextId++));
        const parsed = parseTradeMessage(message, envelopeOf(message));
        if (!parsed.ok) throw new Error(parsed.detail);
        return parsed.event;
      });
      let rows = 0;
      let inserts = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < budgetMs) {
        await insertRows(client, 'trades', records);
        rows += batch;
        inserts++;
      }
      const seconds = (performance.now() - t0) / 1000;
      results.push({
        name: `ClickHouse insert, ${batch.toLocaleString('en-US')} trades per INSERT (RowBinary)`,
        perSecond: rows / seconds,
        unit: 'rows/s',
        detail: `${inserts} inserts in ${seconds.toFixed(1)} s (${Math.round(inserts / seconds)} inserts/s) into ${inputTable('trades')}`,
      });
    }
  } finally {
    await client.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await client.close();
  }
  return results;
}

export async function runMicro(options: MicroOptions, say: (line: string) => void, cpus: number): Promise<void> {
  const results: MicroResult[] = [];
  const run = async (what: () => MicroResult | MicroResult[] | Promise<MicroResult[]>): Promise<void> => {
    for (const result of [await what()].flat()) {
      results.push(result);
      say(`${result.name}: ${Math.round(result.perSecond).toLocaleString('en-US')} ${result.unit}`);
    }
  };
  await run(() => windowEngine(options.quick));
  await run(() => orderBookApply(options.quick));
  await run(() => parseAndBuildTrades(options.quick));
  await run(() => parseAndBuildDepth(options.quick));
  await run(() => clickhouseInserts(options.quick));

  const table = [
    '| hot path | rate | detail |',
    '| --- | ---: | --- |',
    ...results.map((r) => `| ${r.name} | ${Math.round(r.perSecond).toLocaleString('en-US')} ${r.unit} | ${r.detail} |`),
  ].join('\n');
  console.log(`\n${table}\n`);
  const root = findProjectRoot();
  const dir = path.join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:]/g, '-').replace(/\..+$/, '');
  const file = path.join(dir, `micro-${stamp}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), cpus, node: process.version, results }, null, 2)}\n`,
  );
  writeFileSync(file.replace(/\.json$/, '.md'), `${table}\n`);
  say(`results: ${path.relative(root, file)}`);
}
