/**
 * The naive peer, as tutorials build it: a KafkaJS consumer that inserts every trade into
 * ClickHouse on its own, one INSERT per message, and leaves the windows to a GROUP BY at
 * read time. Runs as its own process so that its CPU is measured alone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@clickhouse/client';
import { Kafka, logLevel } from 'kafkajs';
import { tradeEventSchema } from '@candleflow/common/binance-events';
import { registerLz4Codec } from '@candleflow/common/kafkajs-lz4';
import { naiveSettingsSchema, type NaiveProgress } from './naive-messages.js';

const settings = naiveSettingsSchema.parse(JSON.parse(process.env.BENCH_NAIVE ?? 'null'));
// The producer compresses with lz4 by default; KafkaJS needs a codec for it.
registerLz4Codec();
const clickhouse = createClient({ url: settings.clickhouseUrl, database: settings.database });
const kafka = new Kafka({ clientId: 'bench-naive', brokers: settings.brokers, logLevel: logLevel.ERROR });
const consumer = kafka.consumer({ groupId: settings.groupId });

const progress: NaiveProgress = { type: 'progress', atMs: Date.now(), inserted: 0, errors: 0 };
let stopping = false;

await consumer.connect();
await consumer.subscribe({ topics: [settings.topic], fromBeginning: true });
await consumer.run({
  eachMessage: async ({ message }) => {
    const trade = tradeEventSchema.parse(JSON.parse(message.value?.toString('utf8') ?? 'null'));
    const row = {
      symbol: trade.s,
      trade_id: trade.t,
      price: trade.p,
      qty: trade.q,
      trade_time_ms: trade.T,
      is_buyer_maker: trade.m ? 1 : 0,
    };
    for (;;) {
      try {
        await clickhouse.insert({ table: settings.table, values: [row], format: 'JSONEachRow' });
        break;
      } catch (error) {
        if (stopping) throw error;
        progress.errors++;
        progress.lastError = error instanceof Error ? error.message.slice(0, 300) : String(error);
        await sleep(100);
      }
    }
    progress.inserted++;
  },
});

const report = (): void => {
  progress.atMs = Date.now();
  process.send?.(progress);
};
const reporter = setInterval(report, 250);

const stop = (): void => {
  if (stopping) return;
  stopping = true;
  clearInterval(reporter);
  void consumer
    .disconnect()
    .then(() => clickhouse.close())
    .finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
console.log(`naive-peer: reading ${settings.topic} as ${settings.groupId}, one INSERT per message`);
