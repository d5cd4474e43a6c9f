import { randomBytes } from 'node:crypto';
import Kafka from 'node-rdkafka';
import { REST_SOURCE, SOURCE_HEADER, tradeEventSchema } from '@candleflow/common/binance-events';
import type { Logger } from '@candleflow/common/logger';
import { partitionOf } from './kafka-partition.js';
import { TailScan, type SymbolTail, type TailRecord } from './trade-tail.js';

export interface TailReadOptions {
  brokers: string[];
  /** The trades topic. */
  topic: string;
  symbols: readonly string[];
  /** Records per partition per chunk. */
  chunkSize?: number;
  /** Records read per partition at most (`RESTART_SCAN_MAX_MESSAGES`). */
  maxPerPartition: number;
  logger: Logger;
  /** For one chunk of every wanted partition. */
  timeoutMs?: number;
}

interface Chunk {
  partition: number;
  start: number;
  /** One past the chunk's last offset. */
  end: number;
  /** The next offset to take (records already taken are below). */
  next: number;
  records: TailRecord[];
  complete: boolean;
}

/**
 * Reads the end of the trades topic backwards, a chunk per wanted partition at a time
 * (assigned at `high - n` with node-rdkafka's KafkaConsumer, no consumer group state),
 * until the TailScan has every configured symbol or the bound is reached; returns where
 * each symbol stands. Records that are not valid trades are ignored.
 */
export async function readTradeTail(options: TailReadOptions): Promise<Map<string, SymbolTail>> {
  const consumer = new Kafka.KafkaConsumer(
    {
      'group.id': `candleflow-producer-tail-${randomBytes(4).toString('hex')}`,
      'metadata.broker.list': options.brokers.join(','),
      'enable.auto.commit': false,
      'enable.partition.eof': true,
      'fetch.wait.max.ms': 50,
      'log.connection.close': false,
    },
    { 'auto.offset.reset': 'earliest' },
  );
  const timeoutMs = options.timeoutMs ?? 30_000;
  await new Promise<void>((resolve, reject) =>
    consumer.connect({ timeout: timeoutMs }, (error) => (error ? reject(new Error(error.message)) : resolve())),
  );
  try {
    const started = Date.now();
    const partitions = await partitionCount(consumer, options.topic, timeoutMs);
    const scan = new TailScan(options.symbols, partitions, (symbol) => partitionOf(symbol, partitions));
    const next = new Map<number, { low: number; end: number; read: number }>();
    for (let p = 0; p < partitions; p++) {
      const { lowOffset, highOffset } = await watermarks(consumer, options.topic, p, timeoutMs);
      next.set(p, { low: lowOffset, end: highOffset, read: 0 });
      if (highOffset <= lowOffset) scan.addChunk(p, [], true);
    }
    const chunkSize = options.chunkSize ?? 10_000;
    let records = 0;
    for (;;) {
      const chunks: Chunk[] = [];
      for (const partition of scan.wanted) {
        const at = next.get(partition) as { low: number; end: number; read: number };
        const size = Math.min(chunkSize, options.maxPerPartition - at.read);
        if (size <= 0 || at.end <= at.low) continue;
        const start = Math.max(at.low, at.end - size);
        chunks.push({ partition, start, end: at.end, next: start, records: [], complete: false });
      }
      if (chunks.length === 0) break;
      await readChunks(consumer, options.topic, chunks, timeoutMs);
      for (const chunk of chunks) {
        const at = next.get(chunk.partition) as { low: number; end: number; read: number };
        scan.addChunk(chunk.partition, chunk.records, chunk.start <= at.low);
        at.read += chunk.end - chunk.start;
        at.end = chunk.start;
        records += chunk.records.length;
      }
    }
    const result = scan.result();
    const found = [...result.values()].filter((s) => s.kind === 'found');
    options.logger.info(
      {
        topic: options.topic,
        records,
        ms: Date.now() - started,
        found: found.length,
        absent: result.size - found.length,
        holes: found.reduce((n, s) => n + s.holes.length, 0),
      },
      `read the end of ${options.topic}: ${found.length} of ${result.size} symbols found`,
    );
    return result;
  } finally {
    await new Promise<void>((resolve) => consumer.disconnect(() => resolve()));
  }
}

function partitionCount(consumer: Kafka.KafkaConsumer, topic: string, timeout: number): Promise<number> {
  return new Promise((resolve, reject) =>
    consumer.getMetadata({ topic, timeout }, (error, metadata) => {
      if (error) return reject(new Error(error.message));
      const count = metadata.topics.find((t) => t.name === topic)?.partitions.length ?? 0;
      if (count === 0) reject(new Error(`topic ${topic} has no partitions`));
      else resolve(count);
    }),
  );
}

function watermarks(
  consumer: Kafka.KafkaConsumer,
  topic: string,
  partition: number,
  timeout: number,
): Promise<Kafka.WatermarkOffsets> {
  return new Promise((resolve, reject) =>
    consumer.queryWatermarkOffsets(topic, partition, timeout, (error, offsets) =>
      error ? reject(new Error(error.message)) : resolve(offsets),
    ),
  );
}

/** Reads every chunk's records (offsets `start..end-1`); a partition's end of log completes its chunk. */
async function readChunks(consumer: Kafka.KafkaConsumer, topic: string, chunks: Chunk[], timeoutMs: number) {
  const byPartition = new Map(chunks.map((c) => [c.partition, c]));
  const onEof = (eof: { partition: number }): void => {
    const chunk = byPartition.get(eof.partition);
    if (chunk !== undefined) chunk.complete = true;
  };
  consumer.on('partition.eof', onEof);
  consumer.assign(chunks.map((c) => ({ topic, partition: c.partition, offset: c.start })));
  try {
    const deadline = Date.now() + timeoutMs;
    while (chunks.some((c) => !c.complete)) {
      if (Date.now() > deadline) {
        const left = chunks.filter((c) => !c.complete).map((c) => `${c.partition}@${c.start}..${c.end}`);
        throw new Error(`reading the end of ${topic} timed out (partitions ${left.join(', ')})`);
      }
      const messages = await new Promise<Kafka.Message[]>((resolve, reject) =>
        consumer.consume(1000, (error, batch) => (error ? reject(new Error(error.message)) : resolve(batch))),
      );
      for (const message of messages) {
        // node-rdkafka reports a batch's end of partition before handing over the batch.
        const chunk = byPartition.get(message.partition);
        if (chunk === undefined || message.offset < chunk.next || message.offset >= chunk.end) continue;
        chunk.records.push(decode(message));
        chunk.next = message.offset + 1;
        if (chunk.next >= chunk.end) chunk.complete = true;
      }
    }
  } finally {
    consumer.off('partition.eof', onEof);
    consumer.unassign();
  }
}

function decode(message: Kafka.Message): TailRecord {
  const symbol = message.key === undefined || message.key === null ? undefined : message.key.toString();
  let tradeId = 0;
  let valid = false;
  try {
    const trade = tradeEventSchema.safeParse(JSON.parse(message.value?.toString('utf8') ?? ''));
    valid = trade.success && trade.data.s === symbol;
    if (trade.success) tradeId = trade.data.t;
  } catch {
    // Not JSON: not a trade.
  }
  const rest = (message.headers ?? []).some((h) => h[SOURCE_HEADER]?.toString() === REST_SOURCE);
  return {
    offset: message.offset,
    symbol: valid ? symbol : undefined,
    tradeId,
    rest,
    timestamp: message.timestamp ?? 0,
  };
}
