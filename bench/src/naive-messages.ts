import { z } from 'zod';

/** What the naive consumer process reads and where it writes (env BENCH_NAIVE). */
export const naiveSettingsSchema = z.object({
  brokers: z.array(z.string()).min(1),
  topic: z.string().min(1),
  groupId: z.string().min(1),
  clickhouseUrl: z.string().url(),
  database: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
  table: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/),
});
export type NaiveSettings = z.infer<typeof naiveSettingsSchema>;

/** Naive consumer process -> bench, four times a second. */
export const naiveProgressSchema = z.object({
  type: z.literal('progress'),
  atMs: z.number(),
  /** Messages taken from Kafka and inserted. */
  inserted: z.number(),
  /** Failed inserts (each retried). */
  errors: z.number(),
  lastError: z.string().optional(),
});
export type NaiveProgress = z.infer<typeof naiveProgressSchema>;
