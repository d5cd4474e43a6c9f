import { z } from 'zod';

/** How the bench asks its simulator process for a synthetic market (env BENCH_SIM). */
export const simSettingsSchema = z.object({
  symbols: z.array(z.string().regex(/^[A-Z0-9]{2,20}$/)).min(1),
  rate: z.number().int().positive(),
  seed: z.number().int(),
});
export type SimSettings = z.infer<typeof simSettingsSchema>;

/** Bench -> simulator process. */
export const simCommandSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stats') }),
  z.object({ type: z.literal('stop') }),
]);
export type SimCommand = z.infer<typeof simCommandSchema>;

/** Simulator process -> bench. */
export const simReportSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), wsUrl: z.string(), restUrl: z.string() }),
  z.object({
    type: z.literal('stats'),
    atMs: z.number(),
    trades: z.number(),
    depth: z.number(),
    connections: z.number(),
    snapshots: z.number(),
  }),
]);
export type SimReport = z.infer<typeof simReportSchema>;

/**
 * The request-weight limit of the bench's simulator and the producer's budget alike: far
 * above Binance's, so that hundreds of books sync at once instead of over minutes.
 */
export const BENCH_REST_WEIGHT_PER_MINUTE = 100_000_000;
