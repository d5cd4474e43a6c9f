/**
 * Every class of message that breaks the input contract, written between good trades on a
 * 4-partition trades topic and a 2-partition depth topic, against the real Kafka and
 * ClickHouse: a value near the broker's size limit, a depthUpdate whose full validation
 * report would be megabytes, trades at time 0 and in 2100, key/symbol mismatches, decimals
 * beyond the columns' precision, and a row ClickHouse itself refuses. Once with the
 * aggregator running throughout, once killed -9 in the middle and restarted: the outcome
 * must be the same.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { Producer } from 'kafkajs';
import { DLQ_REASON_HEADER } from '@candleflow/common/binance-events';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { createLogger } from '@candleflow/common/logger';
import { waitUntil } from '@candleflow/common/testing';
import { readWebConfig } from '@candleflow/web/config';
import { startWebServer } from '@candleflow/web/web-server';
import { startAggregator } from '../src/aggregator.js';
import {
  DLQ_SOURCE_OFFSET_HEADER,
  DLQ_SOURCE_PARTITION_HEADER,
  DLQ_SOURCE_TABLE_HEADER,
  DLQ_TRUNCATED_HEADER,
  MAX_REASON_BYTES,
} from '../src/dead-letters.js';
import {
  BAD_TRADE_IDS_FROM,
  BAD_UPDATE_IDS_FROM,
  buildScenario,
  DEPTH_PARTITIONS,
  NEAR_LIMIT_BYTES,
  produceStreams,
  readDeadLetters,
  refusingViewSql,
  slice,
  SYMBOLS,
  TRADES_PARTITIONS,
  type DlqReader,
  type Scenario,
  type ScenarioMessage,
  type Stream,
} from './support/adversarial-messages.js';
import {
  countFinal,
  createTestEnv,
  exited,
  kafka,
  metricValue,
  queryRows,
  spawnAggregator,
  waitForFinalWindows,
  type TestEnv,
} from './support/harness.js';
import { assertWindowsMatch, referenceWindows } from './support/reference-windows.js';

const WINDOW_SECONDS = 10;

/** Run last first: aggregators stop before the topics and the database go. */
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) {
    await cleanup().catch((error: unknown) => console.error('cleanup failed:', error));
  }
});

interface Setup {
  env: TestEnv;
  scenario: Scenario;
  producer: Producer;
  dlq: DlqReader;
}

/** Private topics (4 trades partitions, 2 depth), the schema with the refusing view, a DLQ reader. */
async function setUp(prefix: string, seed: number, idleMs = 3000): Promise<Setup> {
  // At least the product's idle timeout: a slow moment of the shared servers should not close
  // a window early (its late trades would have it recomputed from `trades`, see below).
  const env = await createTestEnv(prefix, { WINDOW_IDLE_MS: String(idleMs) }, DEPTH_PARTITIONS);
  cleanups.push(() => env.close());
  await env.admin.createPartitions({ topicPartitions: [{ topic: env.topics.trades, count: TRADES_PARTITIONS }] });
  await waitUntil(`${TRADES_PARTITIONS} partitions of ${env.topics.trades} with a leader`, async () => {
    const { topics } = await env.admin.fetchTopicMetadata({ topics: [env.topics.trades] });
    const partitions = topics[0]?.partitions ?? [];
    return partitions.length === TRADES_PARTITIONS && partitions.every((p) => p.leader >= 0);
  });

  // The schema first (the aggregator finds it applied), then the view that refuses one trade.
  await migrate({ url: env.config.CLICKHOUSE_URL, database: env.db });
  const nowMs = Date.now();
  const startMs = Math.floor((nowMs - 20 * 60_000) / 10_000) * 10_000;
  const scenario = buildScenario({ seed, count: 3000, startMs, nowMs });
  await env.clickhouse.command({ query: refusingViewSql(env.db, scenario.refused) });

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  cleanups.push(() => producer.disconnect());
  const dlq = await readDeadLetters(kafka, env.topics.dlq);
  cleanups.push(async () => {
    await dlq.stop();
    await env.admin.deleteGroups([dlq.groupId]);
  });
  return { env, scenario, producer, dlq };
}

const badMessages = (streams: readonly Stream[]): { stream: Stream; message: ScenarioMessage }[] =>
  streams.flatMap((stream) =>
    stream.messages.filter((m) => m.reason !== undefined).map((message) => ({ stream, message })),
  );

const goodTradeMessages = (streams: readonly Stream[]): number =>
  streams.filter((s) => s.topic === 'trades').reduce((n, s) => n + s.messages.filter((m) => !m.reason).length, 0);

async function count(env: TestEnv, sql: string): Promise<number> {
  const [row] = await queryRows<{ n: string }>(env, sql);
  return Number(row?.n ?? 0);
}

/** Committed offsets of the group, per partition, against each partition's end. */
async function offsetsVersusEnds(env: TestEnv): Promise<{ committed: string[]; ends: string[] }> {
  const committed: string[] = [];
  const ends: string[] = [];
  for (const topic of [env.topics.trades, env.topics.depth]) {
    const [offsets] = await env.admin.fetchOffsets({ groupId: env.config.GROUP_ID, topics: [topic] });
    for (const p of offsets?.partitions ?? []) committed.push(`${topic}/${p.partition}@${p.offset}`);
    for (const p of await env.admin.fetchTopicOffsets(topic)) ends.push(`${topic}/${p.partition}@${p.high}`);
  }
  return { committed: committed.sort(), ends: ends.sort() };
}

/** `/api/symbols` of a web server started in this process against the test's database. */
async function symbolsApi(env: TestEnv): Promise<{ status: number; symbols: string[] }> {
  const config = readWebConfig({
    WEB_HOST: '127.0.0.1',
    WEB_PORT: '0',
    CLICKHOUSE_URL: env.config.CLICKHOUSE_URL,
    CLICKHOUSE_DB: env.db,
    LOG_LEVEL: 'silent',
  });
  const web = await startWebServer(config, {
    logger: createLogger('web', 'silent'),
    staticDir: path.join(os.tmpdir(), 'candleflow-adversarial-no-page'),
    migrate: false,
  });
  try {
    const response = await fetch(`${web.url}/api/symbols`);
    const body = (await response.json()) as { symbols?: { symbol: string }[] };
    return { status: response.status, symbols: (body.symbols ?? []).map((s) => s.symbol).sort() };
  } finally {
    await web.close();
  }
}

/**
 * What both runs must end with: every good window exact, nothing from a bad message in any
 * table, each bad message once in the DLQ with a short reason pointing at it, the refused
 * row once, the group committed to the end of every partition, `/api/symbols` 200.
 */
async function assertOutcome(setup: Setup, context: () => string): Promise<void> {
  const { env, scenario, dlq } = setup;
  const { db } = env;
  const withContext = (error: unknown): never => {
    throw new Error(`${String(error)}\n${context()}`);
  };

  // Windows: exact against the reference, the refused trade counted (its message was valid).
  const expected = referenceWindows(scenario.trades, WINDOW_SECONDS);
  assert.ok(expected.length >= 40, `enough windows to mean something (${expected.length})`);
  const stored = await waitForFinalWindows(env, expected.length, 90_000).catch(withContext);
  assertWindowsMatch(stored, expected);
  const refusedStart = Math.floor(scenario.refused.timeMs / 1000 / WINDOW_SECONDS) * WINDOW_SECONDS;
  const refusedWindow = stored.find((w) => w.symbol === scenario.refused.symbol && w.windowStart === refusedStart);
  const inRefusedWindow = scenario.trades.filter(
    (t) =>
      t.symbol === scenario.refused.symbol &&
      Math.floor(t.timeMs / 1000 / WINDOW_SECONDS) * WINDOW_SECONDS === refusedStart,
  );
  assert.equal(
    refusedWindow?.trades,
    inRefusedWindow.length,
    // (A window recomputed for a late trade is read back from `trades`, which lacks the row.)
    'the refused trade is counted in its window',
  );

  // Trades: every good one but the refused one; nothing from a bad message.
  assert.equal(await countFinal(env, 'trades'), scenario.trades.length - 1, 'one row per good trade but the refused');
  assert.equal(
    await count(
      env,
      `SELECT count() AS n FROM ${db}.trades
       WHERE symbol = '${scenario.refused.symbol}' AND trade_id = ${scenario.refused.id}`,
    ),
    0,
    'the refused trade has no trades row',
  );
  const firstMs = Math.min(...scenario.trades.map((t) => t.timeMs));
  const lastMs = Math.max(...scenario.trades.map((t) => t.timeMs));
  assert.equal(
    await count(
      env,
      `SELECT count() AS n FROM ${db}.trades
       WHERE trade_id >= ${BAD_TRADE_IDS_FROM} OR trade_time_ms < ${firstMs} OR trade_time_ms > ${lastMs}
          OR symbol NOT IN ('${SYMBOLS.join("','")}') OR price <= 0 OR qty <= 0`,
    ),
    0,
    'no trades row from a bad message',
  );
  assert.equal(
    await count(
      env,
      `SELECT count() AS n FROM ${db}.trade_windows
       WHERE toUInt32(window_start) < ${Math.floor(firstMs / 1000) - WINDOW_SECONDS}
          OR toUInt32(window_start) > ${Math.floor(lastMs / 1000)} OR symbol NOT IN ('${SYMBOLS.join("','")}')`,
    ),
    0,
    'no window (open or final, 1970 or 2100, or of the mismatched symbol) from a bad message',
  );

  // Order book: exactly the valid events' rows (a level qty of 0 included).
  assert.equal(await countFinal(env, 'orderbook_snapshots'), scenario.depthRows.snapshots);
  assert.equal(await countFinal(env, 'orderbook_updates'), scenario.depthRows.updates);
  const depthSymbols = `('${scenario.depthSymbols.join("','")}')`;
  for (const [table, time] of [
    ['orderbook_snapshots', 'snapshot_time_ms'],
    ['orderbook_updates', 'event_time_ms'],
  ] as const) {
    assert.equal(
      await count(
        env,
        `SELECT count() AS n FROM ${db}.${table}
         WHERE last_update_id >= ${BAD_UPDATE_IDS_FROM} OR symbol NOT IN ${depthSymbols} OR price <= 0
            OR ${time} < ${firstMs} OR ${time} > ${lastMs}`,
      ),
      0,
      `no ${table} row from a bad message`,
    );
  }
  assert.equal(
    await count(env, `SELECT count() AS n FROM ${db}.orderbook_updates FINAL WHERE qty = 0`),
    2 * scenario.depthSymbols.length,
    'levels removed with qty 0 are rows',
  );

  // The group's offsets at the end of every partition of both topics.
  let offsets = { committed: [] as string[], ends: [] as string[] };
  await waitUntil(
    'the group committed to the end of every partition',
    async () => {
      offsets = await offsetsVersusEnds(env);
      return offsets.committed.length === TRADES_PARTITIONS + DEPTH_PARTITIONS &&
        offsets.committed.join() === offsets.ends.join()
        ? offsets
        : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250, describe: () => `${JSON.stringify(offsets)}\n${context()}` },
  );

  // Dead letters, read committed: wait until the reader is past every record of the topic
  // (a killed instance's open transaction ends when the broker aborts it).
  const bad = badMessages(scenario.streams);
  let dlqEnd = -1;
  await waitUntil(
    `${bad.length + 1} dead letters, and the reader at the end of ${env.topics.dlq}`,
    async () => {
      const [end] = await env.admin.fetchTopicOffsets(env.topics.dlq);
      dlqEnd = Number(end?.high ?? -1);
      return dlq.letters.length >= bad.length + 1 && dlq.fetchedThrough() >= dlqEnd;
    },
    {
      timeoutMs: 60_000,
      intervalMs: 250,
      describe: () =>
        `${dlq.letters.length} letters, fetched through ${dlq.fetchedThrough()} of ${dlqEnd}: ${dlq.letters
          .map((l) => l.headers[DLQ_REASON_HEADER]?.slice(0, 60))
          .join(' | ')}\n${context()}`,
    },
  );
  const maxValueBytes = env.config.DLQ_MAX_VALUE_BYTES;
  const origins = new Map(
    bad.map((b) => [`${env.topics[b.stream.topic]}/${b.stream.partition}/${b.message.offset}`, b.message]),
  );
  const seen = new Map<string, number>();
  const refusedRows: typeof dlq.letters = [];
  for (const letter of dlq.letters) {
    const reason = letter.headers[DLQ_REASON_HEADER] ?? '';
    assert.ok(
      Buffer.byteLength(reason) <= MAX_REASON_BYTES,
      `a reason of ${Buffer.byteLength(reason)} bytes: ${reason.slice(0, 200)}`,
    );
    if (letter.headers[DLQ_SOURCE_TABLE_HEADER] !== undefined) {
      refusedRows.push(letter);
      continue;
    }
    const origin = `${letter.key}/${letter.headers[DLQ_SOURCE_PARTITION_HEADER]}/${letter.headers[DLQ_SOURCE_OFFSET_HEADER]}`;
    const message = origins.get(origin);
    assert.ok(message, `a dead letter for ${origin}, where no bad message was written (${reason.slice(0, 200)})`);
    seen.set(origin, (seen.get(origin) ?? 0) + 1);
    assert.ok(reason.startsWith(`${message.reason}: `), `${message.label}: reason ${JSON.stringify(reason)}`);
    const original = message.value === null ? null : Buffer.from(message.value);
    if (original !== null && original.length > maxValueBytes) {
      assert.equal(letter.value?.length, maxValueBytes, `${message.label}: cut to DLQ_MAX_VALUE_BYTES`);
      assert.ok(letter.value.equals(original.subarray(0, maxValueBytes)), `${message.label}: the value's start`);
      assert.equal(letter.headers[DLQ_TRUNCATED_HEADER], String(original.length), `${message.label}: original size`);
    } else {
      assert.deepEqual(letter.value?.toString() ?? null, message.value, `${message.label}: the value as written`);
      assert.equal(letter.headers[DLQ_TRUNCATED_HEADER], undefined, `${message.label}: not cut`);
    }
  }
  const missingOrTwice = bad
    .map(({ stream, message }) => ({
      label: message.label,
      times: seen.get(`${env.topics[stream.topic]}/${stream.partition}/${message.offset}`) ?? 0,
    }))
    .filter((b) => b.times !== 1);
  assert.deepEqual(missingOrTwice, [], 'each bad message exactly once in the DLQ');

  assert.equal(refusedRows.length, 1, 'the row ClickHouse refused, once');
  const [row] = refusedRows;
  assert.ok(row);
  assert.equal(row.key, env.topics.trades);
  assert.equal(row.headers[DLQ_SOURCE_TABLE_HEADER], 'trades');
  assert.match(row.headers[DLQ_REASON_HEADER] ?? '', /^clickhouse_refused: .*throwIf/);
  assert.deepEqual(
    (({ symbol, trade_id }) => ({ symbol, trade_id }))(
      JSON.parse(row.value?.toString() ?? '{}') as Record<string, unknown>,
    ),
    { symbol: scenario.refused.symbol, trade_id: scenario.refused.id },
  );
  assert.equal(dlq.letters.length, bad.length + 1, 'nothing else in the DLQ');

  const api = await symbolsApi(env);
  assert.equal(api.status, 200, '/api/symbols answers 200');
  assert.deepEqual(api.symbols, [...SYMBOLS].sort(), '/api/symbols lists the good symbols, nothing else');
}

test('every class of bad message between good trades: exact windows, each bad message once in the DLQ', async () => {
  const setup = await setUp('adv', 31);
  const { env, scenario } = setup;
  const bad = badMessages(scenario.streams);
  assert.ok(bad.some((b) => (b.message.value?.length ?? 0) >= NEAR_LIMIT_BYTES - 100));

  // All of it waiting when the aggregator starts: batches full of good and bad messages alike.
  await produceStreams(setup.producer, env.topics, scenario.streams);
  const aggregator = await startAggregator(env.config);
  cleanups.push(() => aggregator.stop());
  await assertOutcome(setup, () => '');

  // Counted by topic and reason, the refused row included.
  const expectedCounts = new Map<string, number>();
  for (const { stream, message } of bad) {
    const k = `${env.topics[stream.topic]} ${message.reason}`;
    expectedCounts.set(k, (expectedCounts.get(k) ?? 0) + 1);
  }
  expectedCounts.set(`${env.topics.trades} clickhouse_refused`, 1);
  for (const [k, n] of expectedCounts) {
    const [topic = '', reason = ''] = k.split(' ');
    assert.equal(
      await metricValue(aggregator.port, 'aggregator_dlq_messages_total', { topic, reason }),
      n,
      `aggregator_dlq_messages_total{topic="${topic}",reason="${reason}"}`,
    );
  }
  assert.equal(await metricValue(aggregator.port, 'aggregator_dlq_messages_total'), bad.length + 1);
  // Every message read once, good and bad alike (counted per batch).
  for (const name of ['trades', 'depth'] as const) {
    const produced = scenario.streams.filter((s) => s.topic === name).reduce((n, s) => n + s.messages.length, 0);
    let read = 0;
    await waitUntil(
      `aggregator_messages_total{topic="${env.topics[name]}"} = ${produced}`,
      async () => {
        read = await metricValue(aggregator.port, 'aggregator_messages_total', { topic: env.topics[name] });
        return read >= produced;
      },
      { describe: () => String(read) },
    );
    assert.equal(read, produced, `aggregator_messages_total{topic="${env.topics[name]}"}`);
  }
  await aggregator.stop();
});

test('the same, with the aggregator killed -9 in the middle and restarted', async () => {
  // A longer idle timeout keeps the last windows of the first part open until the first kill.
  const setup = await setUp('advkill', 37, 5000);
  const { env, scenario, dlq } = setup;
  const children: ReturnType<typeof spawnAggregator>[] = [];
  cleanups.push(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map((c) => exited(c)));
  });
  const start = (): ReturnType<typeof spawnAggregator> => {
    const child = spawnAggregator(env.env);
    children.push(child);
    return child;
  };
  const output = (): string =>
    children.map((c, i) => `--- aggregator ${i + 1}:\n${c.output().slice(-2000)}`).join('\n');
  const originOf = ({ stream, message }: { stream: Stream; message: ScenarioMessage }): string =>
    `${env.topics[stream.topic]}/${stream.partition}/${message.offset}`;
  const inDlq = (): Set<string> =>
    new Set(
      dlq.letters.map(
        (l) => `${l.key}/${l.headers[DLQ_SOURCE_PARTITION_HEADER]}/${l.headers[DLQ_SOURCE_OFFSET_HEADER]}`,
      ),
    );

  // The first 40% of every partition, and at the end of each trades partition a bad message:
  // its dead letter is committed while the window of the trades before it is still open, so
  // the group's committed offset stays before it.
  const first = slice(scenario.streams, 0, 0.4);
  const rest = slice(scenario.streams, 0.4, 1);
  first.forEach((stream, i) => {
    const later = rest[i];
    if (stream.topic !== 'trades' || !later) return;
    const at = later.messages.findIndex((m) => m.reason !== undefined && (m.value?.length ?? 0) < 100_000);
    if (at >= 0) stream.messages.push(...later.messages.splice(at, 1));
  });
  assert.ok(
    first.some((s) => s.messages.some((m) => m.label === `trade ${scenario.refused.symbol} ${scenario.refused.id}`)),
    'the refused trade is in the first part',
  );

  // First life: killed once the first part is written and its dead letters are committed.
  let child = start();
  await produceStreams(setup.producer, env.topics, first);
  const firstBad = badMessages(first);
  const firstGood = goodTradeMessages(first) - 1; // but the refused trade
  await waitUntil(
    'the first part written, its dead letters committed',
    async () =>
      firstBad.every((b) => inDlq().has(originOf(b))) && (await countFinal(env, 'trades').catch(() => 0)) >= firstGood,
    { timeoutMs: 60_000, describe: () => `${dlq.letters.length} dead letters\n${output()}` },
  );
  child.kill('SIGKILL');
  assert.equal(await exited(child), null, 'killed, not exited');
  const [committed] = await env.admin.fetchOffsets({ groupId: env.config.GROUP_ID, topics: [env.topics.trades] });
  const committedOffset = (partition: number): number =>
    Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1);
  const reread = firstBad.filter(
    ({ stream, message }) => stream.topic === 'trades' && (message.offset ?? -1) >= committedOffset(stream.partition),
  );
  assert.ok(
    reread.length > 0,
    `dead-lettered messages after the committed offsets, to be read again (${JSON.stringify(committed)})`,
  );

  // Second life: killed as soon as the second part is being written.
  child = start();
  await produceStreams(setup.producer, env.topics, slice(rest, 0, 0.5));
  await waitUntil('the second part being written', async () => (await countFinal(env, 'trades')) > firstGood, {
    timeoutMs: 60_000,
    intervalMs: 20,
    describe: output,
  });
  child.kill('SIGKILL');
  assert.equal(await exited(child), null, 'killed, not exited');
  assert.ok(dlq.letters.length < badMessages(scenario.streams).length + 1, 'dead letters were still to come');

  // The rest arrives while it is down; the third life runs to the end.
  await produceStreams(setup.producer, env.topics, slice(rest, 0.5, 1));
  child = start();
  await assertOutcome(setup, output);

  child.kill('SIGTERM');
  assert.equal(await exited(child), 0, `clean exit on SIGTERM\n${output()}`);
});
