import { setTimeout as sleep } from 'node:timers/promises';
import { generatedSymbols } from '@candleflow/binance-sim/symbol-profile';
import { freePort } from '@candleflow/common/free-port';
import { sumSamples } from './prometheus-text.js';
import { BENCH_REST_WEIGHT_PER_MINUTE } from './sim-messages.js';
import { ServiceProcess, describeExit } from './service-process.js';
import { SimHandle } from './sim-handle.js';
import type { StepPlan } from './results.js';
import type { BenchContext } from './step.js';
import type { StepFiles } from './step-files.js';

/** The simulator's market at a rate and the project's producer on it: where every step starts. */
export interface FeedSetup {
  /** serviceEnv: extra settings for the producer; the bench's own (topics, ports, URLs) win. */
  ctx: Pick<BenchContext, 'root' | 'serviceEnv' | 'seed' | 'brokers' | 'compression'>;
  plan: Pick<StepPlan, 'rate' | 'symbols'>;
  files: StepFiles;
  topics: { trades: string; depth: string; partitions: number };
}

export interface Feed<T> {
  sim: SimHandle;
  producer: ServiceProcess;
  producerMetricsUrl: string;
  /** What `ready` resolved to. */
  ready: T;
}

/**
 * Starts the simulator, then the producer once the simulator and `ready` (what must be up
 * before the market starts, which it does at the producer's subscription) are. Each child
 * goes into `children` as it starts, for the caller to stop.
 */
export async function startFeed<T>(
  { ctx, plan, files, topics }: FeedSetup,
  children: ServiceProcess[],
  ready: Promise<T>,
): Promise<Feed<T>> {
  const symbols = generatedSymbols(plan.symbols);
  const sim = new SimHandle({
    cwd: ctx.root,
    logFile: files.log('sim'),
    settings: { symbols, rate: plan.rate, seed: ctx.seed },
    nodeArgs: files.nodeArgs('sim'),
  });
  children.push(sim.process);
  const [urls, readyValue] = await Promise.all([sim.ready, ready]);
  const port = await freePort();
  const producer = new ServiceProcess({
    name: 'producer',
    entry: 'producer/src/main.ts',
    cwd: ctx.root,
    logFile: files.log('producer'),
    nodeArgs: files.nodeArgs('producer'),
    env: {
      ...ctx.serviceEnv,
      SYMBOLS: symbols.join(','),
      BINANCE_WS_URL: urls.wsUrl,
      BINANCE_REST_URL: urls.restUrl,
      KAFKA_BROKERS: ctx.brokers.join(','),
      TOPIC_TRADES: topics.trades,
      TOPIC_DEPTH: topics.depth,
      TOPIC_PARTITIONS: String(topics.partitions),
      PRODUCER_PORT: String(port),
      KAFKA_COMPRESSION: ctx.compression,
      REST_WEIGHT_PER_MINUTE: String(BENCH_REST_WEIGHT_PER_MINUTE),
      SNAPSHOT_CONCURRENCY: '8',
      LOG_LEVEL: 'info',
    },
  });
  children.push(producer);
  return { sim, producer, producerMetricsUrl: `http://127.0.0.1:${port}/metrics`, ready: readyValue };
}

/** The simulator's time of its first frame: the market starts with the producer's subscription. */
export async function firstFrameAt(sim: SimHandle, producer: ServiceProcess, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await sim.stats();
    if (stats && stats.trades + stats.depth > 0) return stats.atMs;
    if (Date.now() > deadline)
      throw new Error(`the producer did not subscribe within ${timeoutMs / 1000} s:\n${producer.tail()}`);
    const exit = await Promise.race([producer.exited, sleep(100).then(() => undefined)]);
    if (exit) throw new Error(`the producer exited (${describeExit(exit)}):\n${producer.tail()}`);
  }
}

export interface ProducerCounters {
  /** Messages the producer's queue refused, on any topic. */
  dropped: number;
  /** Trade messages refused: each is a hole the producer repairs over REST... */
  tradesDropped: number;
  /** ...and trades it could not repair: lost. */
  tradesUnrepairable: number;
}

/** The producer's loss counters from its /metrics text. */
export function producerCounters(metrics: string, tradesTopic: string): ProducerCounters {
  return {
    dropped: sumSamples(metrics, 'producer_dropped_messages_total'),
    tradesDropped: sumSamples(metrics, 'producer_dropped_messages_total', { topic: tradesTopic }),
    tradesUnrepairable: sumSamples(metrics, 'producer_trades_unrepairable_total'),
  };
}
