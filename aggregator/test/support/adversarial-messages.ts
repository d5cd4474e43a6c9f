/**
 * The adversarial suite's input: good trades over four symbols on a 4-partition trades
 * topic and valid depth events on a 2-partition depth topic, with every class of message
 * that breaks the aggregator's input contract (topic-messages.ts) written between them,
 * each with the reason code its dead letter must carry. Also: producing the streams in
 * order (recording each message's offset), and reading the dead-letter topic the way a
 * read_committed consumer sees it.
 */
import type { Consumer, Kafka, Producer } from 'kafkajs';
import { RECEIVE_TIME_HEADER } from '@candleflow/common/binance-events';
import { uniqueName } from '@candleflow/common/testing';
import { inputTable } from '../../src/clickhouse-records.js';
import type { DlqReason } from '../../src/topic-messages.js';
import { syntheticTrades, tradeEvent } from './harness.js';
import type { RefTrade } from './reference-windows.js';

export const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'BNBUSDT', 'SOLUSDT'] as const;
export const TRADES_PARTITIONS = 4;
export const DEPTH_PARTITIONS = 2;
/** Every symbol has a trades partition of its own; the depth topic has two symbols a partition. */
export const tradesPartition = (symbol: string): number => SYMBOLS.indexOf(symbol as (typeof SYMBOLS)[number]);
export const depthPartition = (symbol: string): number => tradesPartition(symbol) % DEPTH_PARTITIONS;

/** Trade ids of bad trade messages: far from the good ones, so a row from one would stand out. */
export const BAD_TRADE_IDS_FROM = 9_000_000;
/** Update ids of bad depth messages; every valid one is below. */
export const BAD_UPDATE_IDS_FROM = 2000;
/** A value whose dead letter must be cut: just under the broker's default max.message.bytes (1048588). */
export const NEAR_LIMIT_BYTES = 1_000_000;
/** Malformed levels of the depthUpdate whose full zod report would be megabytes. */
export const MALFORMED_LEVELS = 100_000;

export interface ScenarioMessage {
  /** What the message is, for failure messages. */
  label: string;
  key: string | null;
  value: string | null;
  /** For a message that breaks the contract: the reason code of its dead letter. */
  reason?: DlqReason;
  /** Set once produced. */
  offset?: number;
}

export interface Stream {
  topic: 'trades' | 'depth';
  partition: number;
  messages: ScenarioMessage[];
}

export interface Scenario {
  /** Every good trade, the one ClickHouse refuses included (its message was valid). */
  trades: RefTrade[];
  /** The good trade whose `trades` row ClickHouse refuses (see refusingViewSql). */
  refused: RefTrade;
  streams: Stream[];
  /** Rows the valid depth events make. */
  depthRows: { snapshots: number; updates: number };
  /** Symbols that have order-book rows. */
  depthSymbols: string[];
}

/** Inserts `bad` between the messages of `stream`, spread evenly (never first or last). */
function interleave(stream: ScenarioMessage[], bad: ScenarioMessage[]): ScenarioMessage[] {
  const out = [...stream];
  bad.forEach((message, i) => {
    const at = Math.floor(((i + 1) * stream.length) / (bad.length + 1)) + i;
    out.splice(at, 0, message);
  });
  return out;
}

/**
 * The whole input. Good trades start at `startMs` (recent past), 40 ms apart on average,
 * some up to 1.5 s out of order (inside the grace), over about `count * 40` ms.
 */
export function buildScenario(options: { seed: number; count: number; startMs: number; nowMs: number }): Scenario {
  const { startMs, nowMs } = options;
  const trades = syntheticTrades({ seed: options.seed, count: options.count, symbols: SYMBOLS, startMs });
  // An ETHUSDT trade of an early window: ClickHouse will refuse its `trades` row.
  const refused = trades.filter((t) => t.symbol === 'ETHUSDT')[40];
  if (!refused) throw new Error('too few ETHUSDT trades');

  // A bad trade that would land in a good window, were it accepted.
  const midMs = startMs + 35_000;
  let nextBadId = BAD_TRADE_IDS_FROM;
  const badTrade = (symbol: string, fields: Record<string, unknown> = {}): Record<string, unknown> => ({
    e: 'trade',
    E: midMs + 3,
    s: symbol,
    t: ++nextBadId,
    p: symbol === 'BTCUSDT' ? '65000.00000000' : '100.00000000',
    q: '1.00000000',
    T: midMs,
    m: false,
    M: true,
    ...fields,
  });
  const json = (value: unknown): string => JSON.stringify(value);
  const badTradeMessages: ScenarioMessage[] = [
    { label: 'trade: not JSON', key: 'BTCUSDT', value: '{"e":"trade","s":"BTCUSDT","t":', reason: 'not_json' },
    { label: 'trade: empty value', key: 'ETHUSDT', value: '', reason: 'empty' },
    { label: 'trade: null value (tombstone)', key: 'BNBUSDT', value: null, reason: 'empty' },
    {
      label: 'trade: missing q',
      key: 'SOLUSDT',
      value: json({ ...badTrade('SOLUSDT'), q: undefined }),
      reason: 'schema',
    },
    {
      label: 'trade: t as a string',
      key: 'BTCUSDT',
      value: json(badTrade('BTCUSDT', { t: String(nextBadId + 1) })),
      reason: 'schema',
    },
    {
      label: 'trade: p as a number',
      key: 'ETHUSDT',
      value: json(badTrade('ETHUSDT', { p: 3000.5 })),
      reason: 'schema',
    },
    {
      label: 'trade: key ETHUSDT, symbol BTCUSDT',
      key: 'ETHUSDT',
      value: json(badTrade('BTCUSDT')),
      reason: 'key_mismatch',
    },
    {
      label: 'trade: key BTCUSDT, symbol XRPUSDT',
      key: 'BTCUSDT',
      value: json(badTrade('XRPUSDT')),
      reason: 'key_mismatch',
    },
    // Written to SOLUSDT's partition.
    { label: 'trade: no key', key: null, value: json(badTrade('SOLUSDT')), reason: 'key_mismatch' },
    {
      label: 'trade: T=0',
      key: 'BNBUSDT',
      value: json(badTrade('BNBUSDT', { T: 0, E: 3 })),
      reason: 'time_range',
    },
    {
      label: 'trade: T the day before Binance opened',
      key: 'BTCUSDT',
      value: json(badTrade('BTCUSDT', { T: Date.UTC(2017, 6, 13, 23, 59, 59) })),
      reason: 'time_range',
    },
    {
      label: 'trade: T in 2100',
      key: 'SOLUSDT',
      value: json(badTrade('SOLUSDT', { T: Date.UTC(2100, 0, 1), E: Date.UTC(2100, 0, 1) })),
      reason: 'time_range',
    },
    {
      label: 'trade: T two minutes after its record',
      key: 'BNBUSDT',
      value: json(badTrade('BNBUSDT', { T: nowMs + 120_000, E: nowMs + 120_000 })),
      reason: 'time_range',
    },
    {
      label: 'trade: price 0',
      key: 'BTCUSDT',
      value: json(badTrade('BTCUSDT', { p: '0.00000000' })),
      reason: 'not_positive',
    },
    {
      label: 'trade: quantity 0',
      key: 'ETHUSDT',
      value: json(badTrade('ETHUSDT', { q: '0' })),
      reason: 'not_positive',
    },
    {
      label: 'trade: quantity with 9 fraction digits',
      key: 'BNBUSDT',
      value: json(badTrade('BNBUSDT', { q: '0.000000001' })),
      reason: 'precision',
    },
    {
      label: 'trade: price with 11 integer digits',
      key: 'SOLUSDT',
      value: json(badTrade('SOLUSDT', { p: '12345678901.5' })),
      reason: 'precision',
    },
    nearLimitTrade(badTrade('ETHUSDT')),
    // Read from a backlog, the two near-limit values come in one fetch: their dead letters
    // are in one batch.
    nearLimitNotJson('BTCUSDT'),
  ];
  const badTrades = badTradeMessages.map((m) => ({
    ...m,
    partition: m.key === null ? tradesPartition('SOLUSDT') : tradesPartition(m.key),
  }));

  const streams: Stream[] = [];
  for (let partition = 0; partition < TRADES_PARTITIONS; partition++) {
    const good = trades
      .filter((t) => tradesPartition(t.symbol) === partition)
      .map((t) => ({ label: `trade ${t.symbol} ${t.id}`, key: t.symbol, value: json(tradeEvent(t)) }));
    const bad = badTrades.filter((b) => b.partition === partition).map(({ partition: _, ...message }) => message);
    streams.push({ topic: 'trades', partition, messages: interleave(good, bad) });
  }

  // Depth: a snapshot and three diffs (one removing a level with qty 0) for two symbols.
  const depthSymbols = ['BTCUSDT', 'ETHUSDT'];
  const eventMs = startMs + 1000;
  const goodDepth = new Map<number, ScenarioMessage[]>();
  let snapshots = 0;
  let updates = 0;
  for (const symbol of depthSymbols) {
    const base = symbol === 'BTCUSDT' ? 65_000 : 3_000;
    const price = (offset: number): string => (base + offset).toFixed(8);
    const bids = [price(-1), price(-2), price(-3)].map((p) => [p, '1.50000000']);
    const asks = [price(1), price(2), price(3)].map((p) => [p, '0.75000000']);
    const events = [
      { e: 'depthSnapshot', E: eventMs, s: symbol, lastUpdateId: 1000, bids, asks },
      {
        e: 'depthUpdate',
        E: eventMs + 100,
        s: symbol,
        U: 1001,
        u: 1003,
        b: [[price(-1), '0']],
        a: [[price(1), '2.5']],
      },
      { e: 'depthUpdate', E: eventMs + 200, s: symbol, U: 1004, u: 1004, b: [[price(-0.5), '1.00000000']], a: [] },
      { e: 'depthUpdate', E: eventMs + 300, s: symbol, U: 1005, u: 1007, b: [], a: [[price(1), '0.00000000']] },
    ];
    snapshots += bids.length + asks.length;
    updates += 2 + 1 + 1;
    const list = goodDepth.get(depthPartition(symbol)) ?? [];
    list.push(...events.map((e) => ({ label: `depth ${symbol} ${e.e}`, key: symbol, value: json(e) })));
    goodDepth.set(depthPartition(symbol), list);
  }
  const malformed = `[${Array.from({ length: MALFORMED_LEVELS }, (_, i) => `[${i % 10},0]`).join(',')}]`;
  const badDepth: ScenarioMessage[] = [
    {
      label: `depth: ${MALFORMED_LEVELS} malformed levels`,
      key: 'BTCUSDT',
      // Numbers where decimal strings belong: two issues a level, a full report of megabytes.
      value: `{"e":"depthUpdate","E":${eventMs + 400},"s":"BTCUSDT","U":2001,"u":2002,"b":${malformed},"a":[]}`,
      reason: 'schema',
    },
    {
      label: 'depth: U > u',
      key: 'ETHUSDT',
      value: json({ e: 'depthUpdate', E: eventMs + 400, s: 'ETHUSDT', U: 2010, u: 2005, b: [], a: [] }),
      reason: 'update_ids',
    },
    {
      label: 'depth: level price 0',
      key: 'BTCUSDT',
      value: json({
        e: 'depthUpdate',
        E: eventMs + 400,
        s: 'BTCUSDT',
        U: 2011,
        u: 2012,
        b: [['0.00000000', '1.00000000']],
        a: [],
      }),
      reason: 'not_positive',
    },
    {
      label: 'depth: snapshot level qty with 9 fraction digits',
      key: 'ETHUSDT',
      value: json({
        e: 'depthSnapshot',
        E: eventMs + 400,
        s: 'ETHUSDT',
        lastUpdateId: 2020,
        bids: [['2999.00000000', '0.000000001']],
        asks: [],
      }),
      reason: 'precision',
    },
    {
      label: 'depth: key BTCUSDT, symbol BNBUSDT',
      key: 'BTCUSDT',
      value: json({ e: 'depthUpdate', E: eventMs + 400, s: 'BNBUSDT', U: 2030, u: 2031, b: [['20.0', '1.0']], a: [] }),
      reason: 'key_mismatch',
    },
    {
      label: 'depth: E in 2100',
      key: 'ETHUSDT',
      value: json({ e: 'depthUpdate', E: Date.UTC(2100, 0, 1), s: 'ETHUSDT', U: 2040, u: 2041, b: [], a: [] }),
      reason: 'time_range',
    },
    {
      label: 'depth: snapshot at E=0',
      key: 'BTCUSDT',
      value: json({ e: 'depthSnapshot', E: 0, s: 'BTCUSDT', lastUpdateId: 2050, bids: [['1.0', '1.0']], asks: [] }),
      reason: 'time_range',
    },
    { label: 'depth: not JSON', key: 'ETHUSDT', value: 'depthUpdate ETHUSDT 2060', reason: 'not_json' },
    {
      label: 'depth: u missing',
      key: 'BTCUSDT',
      value: json({ e: 'depthUpdate', E: eventMs + 400, s: 'BTCUSDT', U: 2070, b: [], a: [] }),
      reason: 'schema',
    },
  ];
  for (let partition = 0; partition < DEPTH_PARTITIONS; partition++) {
    const bad = badDepth.filter((b) => depthPartition(b.key ?? '') === partition);
    streams.push({ topic: 'depth', partition, messages: interleave(goodDepth.get(partition) ?? [], bad) });
  }
  return { trades, refused, streams, depthRows: { snapshots, updates }, depthSymbols };
}

/** A trade whose price has enough digits to bring the value to NEAR_LIMIT_BYTES: too precise, and too big for the DLQ. */
/** A trade event cut off inside a padding string of NEAR_LIMIT_BYTES: not JSON, and too big for the DLQ. */
function nearLimitNotJson(symbol: string): ScenarioMessage {
  const start = `{"e":"trade","s":"${symbol}","pad":"`;
  return {
    label: `trade: a ${NEAR_LIMIT_BYTES}-byte value that is not JSON`,
    key: symbol,
    value: start + 'x'.repeat(NEAR_LIMIT_BYTES - start.length),
    reason: 'not_json',
  };
}

function nearLimitTrade(template: Record<string, unknown>): ScenarioMessage {
  const without = JSON.stringify({ ...template, p: '' });
  return {
    label: `trade: a ${NEAR_LIMIT_BYTES}-byte value (a price of ${NEAR_LIMIT_BYTES - without.length} digits)`,
    key: String(template.s),
    value: JSON.stringify({ ...template, p: '7'.repeat(NEAR_LIMIT_BYTES - without.length) }),
    reason: 'precision',
  };
}

/**
 * A materialized view that makes ClickHouse refuse one `trades` row. ClickHouse 18.16 pushes
 * an insert to the views of a table in name order, so named before `trades_input_mv` it
 * throws before anything of the block reached `trades`.
 */
export function refusingViewSql(db: string, refused: RefTrade): string {
  return `CREATE MATERIALIZED VIEW ${db}.a_refuse_mv ENGINE = Null AS
    SELECT throwIf(symbol = '${refused.symbol}' AND trade_id = ${refused.id}) AS refused FROM ${db}.${inputTable('trades')}`;
}

/** The part of each stream from `from` to `to` (fractions of its length). */
export function slice(streams: readonly Stream[], from: number, to: number): Stream[] {
  return streams.map((s) => ({
    ...s,
    messages: s.messages.slice(Math.floor(s.messages.length * from), Math.floor(s.messages.length * to)),
  }));
}

/**
 * Produces each stream to its partition, in order, and records each message's offset.
 * Values above 100 kB go alone, so that no request holds two of them.
 */
export async function produceStreams(
  producer: Producer,
  topics: { trades: string; depth: string },
  streams: readonly Stream[],
): Promise<void> {
  await Promise.all(
    streams.map(async ({ topic, partition, messages }) => {
      for (let i = 0; i < messages.length;) {
        const group: ScenarioMessage[] = [];
        while (i < messages.length && group.length < 500) {
          const message = messages[i] as ScenarioMessage;
          const big = (message.value?.length ?? 0) > 100_000;
          if (big && group.length > 0) break;
          group.push(message);
          i++;
          if (big) break;
        }
        const [result] = await producer.send({
          topic: topics[topic],
          acks: -1,
          messages: group.map((m) => ({
            partition,
            key: m.key,
            value: m.value,
            headers: { [RECEIVE_TIME_HEADER]: String(Date.now()) },
          })),
        });
        const base = Number(result?.baseOffset);
        if (!Number.isInteger(base)) throw new Error(`no offset for ${topic}/${partition}`);
        group.forEach((m, j) => (m.offset = base + j));
      }
    }),
  );
}

export interface DeadLetter {
  key: string;
  value: Buffer | null;
  headers: Record<string, string>;
}

export interface DlqReader {
  groupId: string;
  letters: DeadLetter[];
  /** The offset up to which the reader has fetched (aborted records and transaction markers included). */
  fetchedThrough(): number;
  stop(): Promise<void>;
}

/** Reads the dead-letter topic from the beginning as a read_committed consumer (KafkaJS's default). */
export async function readDeadLetters(kafka: Kafka, topic: string): Promise<DlqReader> {
  const letters: DeadLetter[] = [];
  let fetchedThrough = 0;
  const groupId = uniqueName('adv_dlq_reader');
  const consumer: Consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });
  // Also emitted for batches of only aborted records or transaction markers.
  consumer.on(consumer.events.START_BATCH_PROCESS, ({ payload }) => {
    fetchedThrough = Math.max(fetchedThrough, Number(payload.lastOffset) + 1);
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) {
        if (value !== undefined) headers[name] = String(Array.isArray(value) ? value[0] : value);
      }
      letters.push({ key: message.key?.toString() ?? '', value: message.value, headers });
    },
  });
  return {
    groupId,
    letters,
    fetchedThrough: () => fetchedThrough,
    stop: () => consumer.disconnect(),
  };
}
