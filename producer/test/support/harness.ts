/**
 * Shared pieces of the producer's integration tests: a producer started in-process
 * with its logs captured, a topic reader, and a recorder of what the simulator sent.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Writable } from 'node:stream';
import type { TestContext } from 'node:test';
import kafkajs from 'kafkajs';
import Kafka from 'node-rdkafka';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import type { Simulator } from '@candleflow/binance-sim/simulator';
import {
  depthStream,
  depthTopicEventSchema,
  tradeEventSchema,
  tradeStream,
  type PriceLevel,
} from '@candleflow/common/binance-events';
import { registerLz4Codec } from '@candleflow/common/kafkajs-lz4';
import { OrderBook } from '@candleflow/common/order-book';
import { findProjectRoot } from '@candleflow/common/env';
import { uniqueName, waitUntil } from '@candleflow/common/testing';
import { parseProducerConfig } from '../../src/config.js';
import { startProducer, type RunningProducer } from '../../src/producer.js';
import { historicalTradesSchema, type HistoricalTrade } from '../../src/trade-repairer.js';

/** `npm run producer`, without npm in between, so that signals reach the producer itself. */
export function runProducer(env: Record<string, string>) {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', path.join('producer', 'src', 'main.ts')],
    {
      cwd: findProjectRoot(),
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (out.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (out.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

/** librdkafka's offset meaning "the first message". */
const OFFSET_BEGINNING = -2;

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A pino logger that keeps every line in memory (and prints them when PRODUCER_TEST_LOGS is set). */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const echo = process.env.PRODUCER_TEST_LOGS !== undefined;
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text.trim() === '') continue;
        lines.push(JSON.parse(text) as LogLine);
        if (echo) console.error(text);
      }
      done();
    },
  });
  return { logger: pino({ level: 'debug', base: { service: 'producer' } }, destination), lines };
}

export interface TestProducer {
  producer: RunningProducer;
  registry: Registry;
  logs: LogLine[];
  /** Current value of a counter or gauge, summed over the label sets that match `labels`. */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

/** Starts the producer in this process with fast test timings; `env` as the variables would be set. */
export async function startTestProducer(env: Record<string, string>): Promise<TestProducer> {
  const config = parseProducerConfig({
    RECONNECT_MIN_DELAY_MS: '100',
    RECONNECT_MAX_DELAY_MS: '1000',
    SNAPSHOT_CONCURRENCY: '4',
    SHUTDOWN_FLUSH_MS: '10000',
    ...env,
  });
  const { logger, lines } = captureLogger();
  const registry = new Registry();
  const producer = await startProducer(config, { logger, registry });
  return {
    producer,
    registry,
    logs: lines,
    async metric(name, labels = {}) {
      const metric = registry.getSingleMetric(name);
      if (metric === undefined) throw new Error(`no metric ${name}`);
      const { values } = await metric.get();
      return values
        .filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want))
        .reduce((sum, v) => sum + v.value, 0);
    },
  };
}

export interface TopicMessage {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/**
 * Reads every partition of a topic from the beginning, for as long as it runs, with
 * node-rdkafka (readTopicWithKafkaJs reads a topic with another client).
 */
export class TopicReader {
  readonly messages: TopicMessage[] = [];

  private constructor(
    private readonly consumer: Kafka.KafkaConsumer,
    readonly topic: string,
    readonly partitions: number[],
  ) {}

  static async start(brokers: string[], topic: string): Promise<TopicReader> {
    const consumer = new Kafka.KafkaConsumer(
      {
        'group.id': uniqueName('producer_test'),
        'metadata.broker.list': brokers.join(','),
        'enable.auto.commit': false,
        'fetch.wait.max.ms': 100,
      },
      { 'auto.offset.reset': 'earliest' },
    );
    await new Promise<void>((resolve, reject) =>
      consumer.connect({ timeout: 10_000 }, (error) => (error ? reject(new Error(error.message)) : resolve())),
    );
    const metadata = await new Promise<Kafka.Metadata>((resolve, reject) =>
      consumer.getMetadata({ topic, timeout: 10_000 }, (error, data) =>
        error ? reject(new Error(error.message)) : resolve(data),
      ),
    );
    const partitions = (metadata.topics.find((t) => t.name === topic)?.partitions ?? []).map((p) => p.id);
    assert.ok(partitions.length > 0, `topic ${topic} has no partitions`);
    const reader = new TopicReader(consumer, topic, partitions);
    consumer.on('data', (message) => {
      const headers: Record<string, string> = {};
      for (const header of message.headers ?? []) {
        for (const [k, v] of Object.entries(header)) headers[k] = v.toString();
      }
      reader.messages.push({
        partition: message.partition,
        offset: message.offset,
        key: String(message.key),
        value: message.value?.toString('utf8') ?? '',
        headers,
      });
    });
    consumer.assign(partitions.map((partition) => ({ topic, partition, offset: OFFSET_BEGINNING })));
    consumer.setDefaultConsumeTimeout(100);
    consumer.consume();
    return reader;
  }

  /** Messages on the topic right now, from the partitions' watermarks. */
  async countOnBroker(): Promise<number> {
    let total = 0;
    for (const partition of this.partitions) {
      const offsets = await new Promise<Kafka.WatermarkOffsets>((resolve, reject) =>
        this.consumer.queryWatermarkOffsets(this.topic, partition, 10_000, (error, data) =>
          error ? reject(new Error(error.message)) : resolve(data),
        ),
      );
      total += offsets.highOffset - offsets.lowOffset;
    }
    return total;
  }

  /** Waits until every message on the broker has been read. */
  async readAll(timeoutMs = 60_000): Promise<TopicMessage[]> {
    const total = await this.countOnBroker();
    await waitUntil(`all ${total} messages of ${this.topic}`, () => this.messages.length >= total, {
      timeoutMs,
      describe: () => `${this.messages.length} read`,
    });
    return this.messages;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.consumer.disconnect(() => resolve()));
  }
}

/** What the simulator sent, per stream, and its true book after each depth diff, per symbol and update id. */
export interface SimRecording {
  sent: Map<string, { json: string; at: number }[]>;
  bookAt: Map<string, Map<number, { bids: PriceLevel[]; asks: PriceLevel[] }>>;
}

/** First and last trade id the simulator sent of `symbol`. */
export function sentRange(recording: SimRecording, symbol: string): { first: number; last: number } {
  const sent = (recording.sent.get(tradeStream(symbol)) ?? []).map((s) => (JSON.parse(s.json) as { t: number }).t);
  return { first: sent[0] ?? -1, last: sent.at(-1) ?? -1 };
}

export function recordSimulator(sim: Simulator): SimRecording {
  const recording: SimRecording = { sent: new Map(), bookAt: new Map() };
  sim.on('sent', (stream, data) => {
    let list = recording.sent.get(stream);
    if (list === undefined) recording.sent.set(stream, (list = []));
    list.push({ json: JSON.stringify(data), at: Date.now() });
  });
  sim.on('depth', (event, bookAfter) => {
    let books = recording.bookAt.get(event.s);
    if (books === undefined) recording.bookAt.set(event.s, (books = new Map()));
    books.set(event.u, bookAfter.levels());
  });
  return recording;
}

export interface DepthCheck {
  snapshots: number[];
  /** The diffs on the topic, as their JSON text, in order. */
  diffs: string[];
  /** Update ids at which the rebuilt book was compared with the simulator's. */
  compared: number;
}

/**
 * Rebuilds `symbol`'s book from the depth topic alone and compares it with the
 * simulator's true book at every update id reached. Fails unless every snapshot is
 * followed only by diffs that continue it (`U <= local + 1 <= u`, Binance's rule since
 * 2025-11: a diff may overlap the book).
 */
export function checkDepthTopic(messages: TopicMessage[], symbol: string, recording: SimRecording): DepthCheck {
  const check = (ok: boolean, message: string): void => assert.ok(ok, message);
  const truth = recording.bookAt.get(symbol) ?? new Map();
  const book = new OrderBook(symbol);
  const result: DepthCheck = { snapshots: [], diffs: [], compared: 0 };
  let synced = false;
  for (const m of messages) {
    if (m.key !== symbol) continue;
    const event = depthTopicEventSchema.parse(JSON.parse(m.value));
    check(event.s === symbol, `event for ${event.s} under key ${symbol}`);
    if (event.e === 'depthSnapshot') {
      book.loadSnapshot(event.lastUpdateId, event.bids, event.asks);
      result.snapshots.push(event.lastUpdateId);
      synced = true;
      const expected = truth.get(event.lastUpdateId);
      if (expected !== undefined) {
        check(
          sameBook(book.levels(), expected),
          `${symbol} snapshot at ${event.lastUpdateId} differs from the true book`,
        );
        result.compared++;
      }
      continue;
    }
    check(synced, `${symbol}: diff ${event.U}..${event.u} before any snapshot`);
    const next = book.lastUpdateId + 1;
    check(
      event.U <= next && event.u >= next,
      `${symbol}: diff ${event.U}..${event.u} does not continue the book at ${book.lastUpdateId}`,
    );
    book.applyDiff(event.u, event.b, event.a);
    result.diffs.push(m.value);
    const expected = truth.get(event.u);
    check(expected !== undefined, `${symbol}: diff ${event.U}..${event.u} on the topic was never sent`);
    if (expected !== undefined) {
      check(sameBook(book.levels(), expected), `${symbol}: rebuilt book at ${event.u} differs from the true book`);
      result.compared++;
    }
  }
  return result;
}

function sameBook(
  a: { bids: PriceLevel[]; asks: PriceLevel[] },
  b: { bids: PriceLevel[]; asks: PriceLevel[] },
): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Deletes test topics (errors ignored: the topic may not have been created). */
export async function deleteTopics(brokers: string[], topics: string[]): Promise<void> {
  const admin = Kafka.AdminClient.create({ 'metadata.broker.list': brokers.join(',') });
  try {
    for (const topic of topics) await new Promise<void>((resolve) => admin.deleteTopic(topic, 10_000, () => resolve()));
  } finally {
    admin.disconnect();
  }
}

/** Trade ids of `symbol` on the trades topic, in topic order. */
export function tradeIds(messages: TopicMessage[], symbol: string): number[] {
  return messages.filter((m) => m.key === symbol).map((m) => (JSON.parse(m.value) as { t: number }).t);
}

export interface TopicsAsSent {
  tradeMessages: TopicMessage[];
  depthMessages: TopicMessage[];
  /** Per symbol: the trades sent, the diffs sent after its one snapshot, and the book check. */
  symbols: Map<string, { trades: string[]; diffs: string[]; depth: DepthCheck }>;
}

/**
 * Reads both topics whole and asserts they hold exactly what the simulator sent: each
 * symbol's trades once, in order; one snapshot per symbol, then exactly the diffs sent
 * after it, rebuilding the true book.
 */
export async function assertTopicsAsSent(
  t: TestContext,
  brokers: string[],
  topics: { trades: string; depth: string },
  symbols: string[],
  recording: SimRecording,
): Promise<TopicsAsSent> {
  const tradeReader = await TopicReader.start(brokers, topics.trades);
  const depthReader = await TopicReader.start(brokers, topics.depth);
  t.after(() => Promise.all([tradeReader.stop(), depthReader.stop()]));
  const result: TopicsAsSent = {
    tradeMessages: await tradeReader.readAll(),
    depthMessages: await depthReader.readAll(),
    symbols: new Map(),
  };
  for (const symbol of symbols) {
    const trades = (recording.sent.get(tradeStream(symbol)) ?? []).map((s) => s.json);
    assert.deepEqual(
      result.tradeMessages.filter((m) => m.key === symbol).map((m) => m.value),
      trades,
      `${symbol}: trades on the topic differ from the trades sent`,
    );
    const depth = checkDepthTopic(result.depthMessages, symbol, recording);
    assert.equal(depth.snapshots.length, 1, `${symbol}: snapshots ${depth.snapshots.join(',')}`);
    const snapshot = depth.snapshots[0] ?? 0;
    // Diffs the snapshot already covers are, by the sync procedure, not published.
    const diffs = (recording.sent.get(depthStream(symbol)) ?? [])
      .map((s) => s.json)
      .filter((json) => (JSON.parse(json) as { u: number }).u > snapshot);
    assert.deepEqual(depth.diffs, diffs, `${symbol}: diffs on the topic differ from the diffs sent`);
    result.symbols.set(symbol, { trades, diffs, depth });
  }
  const sentTrades = [...result.symbols.values()].reduce((sum, s) => sum + s.trades.length, 0);
  assert.equal(result.tradeMessages.length, sentTrades, 'trades on the topic: count in = count out');
  return result;
}

/**
 * Reads a whole topic with KafkaJS (another client than the producer's librdkafka), up to
 * the partitions' high watermarks at the time of the call.
 */
export async function readTopicWithKafkaJs(brokers: string[], topic: string): Promise<TopicMessage[]> {
  registerLz4Codec();
  const kafka = new kafkajs.Kafka({ brokers, clientId: 'producer-test', logLevel: kafkajs.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const total = offsets.reduce((n, o) => n + Number(o.high) - Number(o.low), 0);
  const messages: TopicMessage[] = [];
  const consumer = kafka.consumer({ groupId: uniqueName('producer_test_kafkajs') });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
        messages.push({
          partition,
          offset: Number(message.offset),
          key: message.key?.toString('utf8') ?? '',
          value: message.value?.toString('utf8') ?? '',
          headers,
        });
      },
    });
    await waitUntil(`all ${total} messages of ${topic} (KafkaJS)`, () => messages.length >= total, {
      timeoutMs: 60_000,
      describe: () => `${messages.length} read`,
    });
  } finally {
    await consumer.disconnect();
  }
  return messages;
}

/** The simulator's trades `from..to` of `symbol`, from its REST trade log (every trade it made, sent or not). */
export async function simTradeLog(
  restUrl: string,
  symbol: string,
  from: number,
  to: number,
): Promise<Map<number, HistoricalTrade>> {
  const trades = new Map<number, HistoricalTrade>();
  for (let next = from; next <= to;) {
    const response = await fetch(`${restUrl}/api/v3/historicalTrades?symbol=${symbol}&fromId=${next}&limit=1000`);
    assert.equal(response.status, 200, await response.clone().text());
    const page = historicalTradesSchema.parse(await response.json());
    assert.ok(page.length > 0, `${symbol}: the simulator has no trade from ${next}`);
    for (const trade of page) if (trade.id <= to) trades.set(trade.id, trade);
    next = (page.at(-1)?.id ?? to) + 1;
  }
  return trades;
}

export interface TradeCompleteness {
  first: number;
  last: number;
  streamed: number;
  /** Ids that came over REST (header source=rest), in topic order. */
  repaired: number[];
}

/**
 * Asserts that `symbol`'s trades on the topic are every id from the first to the last
 * exactly once (no dedupe by id), streamed ones exactly as the simulator sent them and
 * repaired ones (header `source: rest`, in id order) equal to the simulator's trades,
 * with `E` the time they were fetched.
 */
export async function assertEveryTradeOnce(
  messages: TopicMessage[],
  symbol: string,
  sim: { restUrl: string; recording: SimRecording },
): Promise<TradeCompleteness> {
  const mine = messages.filter((m) => m.key === symbol);
  assert.ok(mine.length > 0, `${symbol}: no trade on the topic`);
  const events = mine.map((m) => ({ message: m, trade: tradeEventSchema.parse(JSON.parse(m.value)) }));
  const ids = events.map((e) => e.trade.t).sort((a, b) => a - b);
  const first = ids[0] as number;
  const last = ids.at(-1) as number;
  const twice = ids.filter((id, i) => i > 0 && id === ids[i - 1]);
  assert.deepEqual(twice.slice(0, 10), [], `${symbol}: ${twice.length} ids on the topic more than once`);
  const missing: number[] = [];
  for (let id = first, i = 0; id <= last; id++) {
    if (ids[i] === id) i++;
    else missing.push(id);
  }
  assert.deepEqual(missing.slice(0, 10), [], `${symbol}: ${missing.length} ids missing between ${first} and ${last}`);

  const sent = new Map(
    (sim.recording.sent.get(tradeStream(symbol)) ?? []).map((s) => [(JSON.parse(s.json) as { t: number }).t, s.json]),
  );
  const truth = await simTradeLog(sim.restUrl, symbol, first, last);
  const repaired: number[] = [];
  for (const { message, trade } of events) {
    const logged = truth.get(trade.t);
    assert.ok(logged !== undefined, `${symbol}: trade ${trade.t} is not the simulator's`);
    assert.deepEqual(
      { p: trade.p, q: trade.q, T: trade.T, m: trade.m, M: trade.M },
      { p: logged.price, q: logged.qty, T: logged.time, m: logged.isBuyerMaker, M: logged.isBestMatch },
      `${symbol}: trade ${trade.t} differs from the simulator's`,
    );
    if (message.headers.source === 'rest') {
      repaired.push(trade.t);
      assert.ok(trade.E >= trade.T, `${symbol}: repaired trade ${trade.t} fetched (E) before it happened`);
    } else {
      assert.equal(message.headers.source, undefined);
      assert.equal(message.value, sent.get(trade.t), `${symbol}: streamed trade ${trade.t} not as sent`);
    }
  }
  assert.ok(
    repaired.every((id, i) => i === 0 || id > (repaired[i - 1] as number)),
    `${symbol}: repaired trades not in id order`,
  );
  return { first, last, streamed: events.length - repaired.length, repaired };
}
