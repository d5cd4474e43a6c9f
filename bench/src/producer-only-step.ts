import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { uniqueName } from '@candleflow/common/testing';
import { fetchText } from './http-text.js';
import { topicEnd } from './kafka-offsets.js';
import { ProcessMeter } from './process-meter.js';
import { firstFrameAt, producerCounters, startFeed, type ProducerCounters } from './producer-service.js';
import { TREND_BIN_S, rateTrend, saturation } from './rate-trend.js';
import type { ProducerOnlyResult, ProducerSeriesPoint, StepPlan } from './results.js';
import { describeExit, type ServiceProcess } from './service-process.js';
import type { BenchContext } from './step.js';
import { StepFiles } from './step-files.js';

export type ProducerOnlyContext = Pick<
  BenchContext,
  'root' | 'brokers' | 'compression' | 'seed' | 'warmupS' | 'profile' | 'serviceEnv' | 'logDir' | 'kafkaPid' | 'say'
>;

const PARTITIONS = 6;
const SAMPLE_MS = 1000;
const PROGRESS_MS = 5000;

const round = (value: number, digits = 0): number => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * simulator -> producer -> Kafka at `plan.rate` for `plan.durationS` on fresh topics, with
 * no consumer: the producer's ceiling alone. Rates, losses, CPU and RSS over the part after
 * the warm-up, and whether the rate into Kafka held at its ceiling under overload.
 */
export async function runProducerOnlyStep(
  plan: StepPlan,
  ctx: ProducerOnlyContext,
  label: string,
  fileTag: string,
): Promise<ProducerOnlyResult> {
  const topics = { trades: uniqueName('bench_p_trades'), depth: uniqueName('bench_p_depth') };
  const admin = new Kafka({ clientId: 'bench', brokers: ctx.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const children: ServiceProcess[] = [];
  const files = new StepFiles(ctx.logDir, fileTag, ctx.profile);
  const notes: string[] = [];
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: [topics.trades, topics.depth].map((topic) => ({ topic, numPartitions: PARTITIONS })),
    });
    const { sim, producer, producerMetricsUrl } = await startFeed(
      { ctx, plan, files, topics: { ...topics, partitions: PARTITIONS } },
      children,
      Promise.resolve(),
    );
    const meter = new ProcessMeter();
    meter.track('sim', sim.process.pid);
    meter.track('producer', producer.pid);
    if (ctx.kafkaPid !== undefined) meter.track('kafka', ctx.kafkaPid);
    const runStart = meter.mark();
    const t0 = await firstFrameAt(sim, producer);

    const series: ProducerSeriesPoint[] = [];
    let losses: ProducerCounters = { dropped: 0, tradesDropped: 0, tradesUnrepairable: 0 };
    const sample = async (): Promise<ProducerSeriesPoint> => {
      const [stats, trades, depth, metrics] = await Promise.all([
        sim.stats(),
        topicEnd(admin, topics.trades),
        topicEnd(admin, topics.depth),
        fetchText(producerMetricsUrl),
      ]);
      if (metrics) losses = producerCounters(metrics, topics.trades);
      return {
        t: round(((stats?.atMs ?? Date.now()) - t0) / 1000, 2),
        simFrames: stats ? stats.trades + stats.depth : (series.at(-1)?.simFrames ?? 0),
        kafkaMessages: trades + depth,
      };
    };
    const warmupEnd = t0 + ctx.warmupS * 1000;
    const liveEnd = t0 + plan.durationS * 1000;
    let measureStart: { mark: ReturnType<ProcessMeter['mark']>; point: ProducerSeriesPoint } | undefined;
    let lastProgress = Date.now();
    while (Date.now() < liveEnd) {
      const begin = Date.now();
      const point = await sample();
      series.push(point);
      const mark = meter.mark();
      if (!measureStart && mark.atMs >= warmupEnd) measureStart = { mark, point };
      for (const child of children) {
        const exit = await Promise.race([child.exited, Promise.resolve(undefined)]);
        if (exit) throw new Error(`${child.name} exited during the step (${describeExit(exit)}):\n${child.tail()}`);
      }
      if (mark.atMs - lastProgress >= PROGRESS_MS) {
        lastProgress = mark.atMs;
        const back = series.at(-6) ?? series[0] ?? point;
        const dt = Math.max(0.001, point.t - back.t);
        ctx.say(
          `${label} producer only ${plan.rate}/s x${plan.symbols}: t=${Math.round(point.t)}s ` +
            `in ${Math.round((point.simFrames - back.simFrames) / dt)}/s ` +
            `kafka ${Math.round((point.kafkaMessages - back.kafkaMessages) / dt)}/s, trades dropped ${losses.tradesDropped}`,
        );
      }
      await sleep(Math.max(0, Math.min(SAMPLE_MS - (Date.now() - begin), liveEnd - Date.now())));
    }
    const endPoint = await sample();
    series.push(endPoint);
    const measured = meter.usage(measureStart?.mark ?? runStart, meter.mark());
    const loadAverage = round(os.loadavg()[0] ?? 0, 2);

    const simExit = await sim.stop();
    // Its final counts, everything it sent (had it not told them, those of the last sample).
    const sent = sim.lastStats;
    if (simExit.code !== 0) notes.push(`the simulator exited with ${describeExit(simExit)}`);
    const producerExit = await producer.stop(20_000);
    if (producerExit.code !== 0) notes.push(`the producer exited with ${describeExit(producerExit)}`);

    const startPoint = measureStart?.point ?? series[0] ?? endPoint;
    const measuredS = Math.max(0.001, endPoint.t - startPoint.t);
    const kafkaTrend = rateTrend(
      series.filter((p) => p.t >= startPoint.t).map((p) => ({ t: p.t, count: p.kafkaMessages })),
      TREND_BIN_S,
    );
    const processes: ProducerOnlyResult['processes'] = {};
    for (const [name, usage] of Object.entries(measured)) {
      processes[name] = { cpuPercent: round(usage.cpuPercent, 1), maxRssBytes: usage.maxRssBytes };
    }
    return {
      plan,
      warmupS: ctx.warmupS,
      loadAverage,
      input: {
        simRate: Math.round((endPoint.simFrames - startPoint.simFrames) / measuredS),
        kafkaRate: Math.round((endPoint.kafkaMessages - startPoint.kafkaMessages) / measuredS),
        simTrades: sent?.trades ?? 0,
        simDepth: sent?.depth ?? 0,
        tradesInKafka: await topicEnd(admin, topics.trades),
        depthInKafka: await topicEnd(admin, topics.depth),
        producerDropped: losses.dropped,
        tradesDropped: losses.tradesDropped,
        tradesUnrepairable: losses.tradesUnrepairable,
      },
      kafkaTrend,
      saturation: saturation(plan.rate, kafkaTrend),
      processes,
      profiles: files.profiles(ctx.root, ['sim', 'producer']),
      series,
      notes,
    };
  } finally {
    for (const child of children.reverse()) await child.stop(10_000);
    await admin.deleteTopics({ topics: [topics.trades, topics.depth] }).catch((error: unknown) => {
      ctx.say(`could not delete the step's topics: ${error instanceof Error ? error.message : String(error)}`);
    });
    await admin.disconnect();
  }
}
