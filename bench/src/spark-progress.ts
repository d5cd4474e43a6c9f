import { z } from 'zod';

/** What the Spark job (bench/spark/windows_job.py) reads and where it writes (env BENCH_SPARK). */
export interface SparkJobSettings {
  brokers: string[];
  /** The step's trades topic and the latency probe's topic. */
  topics: string[];
  clickhouseUrl: string;
  database: string;
  table: string;
  windowSeconds: number;
  /** The watermark delay: the project's grace. */
  graceMs: number;
  shufflePartitions: number;
  checkpointDir: string;
  /** Spark's Kafka source and what it needs beyond pyspark's own jars. */
  jars: string[];
}

/** Spark job -> bench, over Node's IPC channel (one JSON line each). */
export const sparkMessageSchema = z.discriminatedUnion('type', [
  /** The query is running; the JVM's pid, to meter it. */
  z.object({ type: z.literal('started'), atMs: z.number(), jvmPid: z.number().int().positive() }),
  /** A micro-batch ended (Spark's query progress). */
  z.object({
    type: z.literal('batch'),
    batchId: z.number().int().nonnegative(),
    inputRows: z.number().int().nonnegative(),
    durationMs: z.number().nonnegative(),
    atMs: z.number(),
  }),
  /** A micro-batch's final windows are in ClickHouse. */
  z.object({ type: z.literal('written'), batchId: z.number().int(), rows: z.number().int(), atMs: z.number() }),
  z.object({ type: z.literal('failed'), error: z.string() }),
]);
export type SparkMessage = z.infer<typeof sparkMessageSchema>;
export type SparkBatch = Extract<SparkMessage, { type: 'batch' }>;

export interface ReadProgress {
  /** Rows read by the batches so far. */
  rows: number;
  /** Batches that read rows. */
  dataBatches: number;
  /** When the last batch that read rows ended. */
  lastDataAtMs: number | undefined;
  /** The longest batch, ms. */
  longestMs: number;
}

/**
 * Folds a batch into the reading progress. Spark reports only whole micro-batches, so
 * the catch-up is measured to the end of the batch that read the last trade; batches
 * without rows (the ones that only emit windows when the watermark moves) do not count.
 */
export function addBatch(progress: ReadProgress, batch: SparkBatch): ReadProgress {
  if (batch.inputRows === 0) return { ...progress, longestMs: Math.max(progress.longestMs, batch.durationMs) };
  return {
    rows: progress.rows + batch.inputRows,
    dataBatches: progress.dataBatches + 1,
    lastDataAtMs: batch.atMs,
    longestMs: Math.max(progress.longestMs, batch.durationMs),
  };
}

export const NO_PROGRESS: ReadProgress = { rows: 0, dataBatches: 0, lastDataAtMs: undefined, longestMs: 0 };
