import { z } from 'zod';

/** A request the API refuses; `parameter` is the query parameter at fault. */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(`${parameter}: ${message}`);
  }
}

/** Binance spot symbols: upper-case letters and digits. */
export const symbolSchema = z
  .string({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a single value') })
  .regex(/^[A-Z0-9]{2,20}$/, 'expected 2-20 upper-case letters or digits, e.g. BTCUSDT');

/** The oldest and newest times the API accepts (ms): Binance opened in July 2017. */
export const earliestTimeMs = Date.UTC(2017, 0, 1);
export const latestTimeSlackMs = 24 * 3600_000;

/** Longest span one windows request may cover: 7 days of 10 s windows (60 480 rows). */
export const maxWindowSpanMs = 7 * 24 * 3600_000;

const isoTime = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

function parseTime(text: string): number | string {
  if (/^\d{1,16}$/.test(text)) return Number(text);
  if (!isoTime.test(text)) return 'expected milliseconds since 1970 or an ISO 8601 time';
  // Date.parse rolls 2024-02-30 over into March; a date that does not exist is refused.
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return 'not a valid date';
  // A time of day without an offset is read as UTC, like a bare date.
  const hasOffset = /(Z|[+-]\d{2}:\d{2})$/.test(text);
  const ms = Date.parse(text.includes('T') && !hasOffset ? `${text}Z` : text);
  return Number.isFinite(ms) ? ms : 'not a valid date';
}

/** A time as integer milliseconds since the epoch or an ISO 8601 date/time (UTC unless an offset is given). */
export const timeSchema = z.string({ error: 'expected a single value' }).transform((text, ctx) => {
  const ms = parseTime(text);
  if (typeof ms === 'string') {
    ctx.addIssue({ code: 'custom', message: ms });
    return z.NEVER;
  }
  if (ms < earliestTimeMs || ms > Date.now() + latestTimeSlackMs) {
    ctx.addIssue({ code: 'custom', message: 'outside 2017-01-01 .. tomorrow' });
    return z.NEVER;
  }
  return ms;
});

/** A bounded integer given as a query string. */
export function boundedInt(min: number, max: number, fallback: number) {
  return z
    .string({ error: 'expected a single value' })
    .regex(/^\d{1,7}$/, `expected an integer from ${min} to ${max}`)
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, `expected an integer from ${min} to ${max}`)
        .max(max, `expected an integer from ${min} to ${max}`),
    )
    .optional()
    .transform((n) => n ?? fallback);
}

export const windowsQuerySchema = z.object({
  symbol: symbolSchema,
  from: timeSchema.optional(),
  to: timeSchema.optional(),
});
export type WindowsQuery = z.output<typeof windowsQuerySchema>;

export const tradesQuerySchema = z.object({ symbol: symbolSchema, limit: boundedInt(1, 1000, 50) });
export type TradesQuery = z.output<typeof tradesQuerySchema>;

export const orderbookQuerySchema = z.object({ symbol: symbolSchema, depth: boundedInt(1, 500, 20) });
export type OrderbookQuery = z.output<typeof orderbookQuerySchema>;

/** Parses a request's query string; the first problem becomes a BadRequestError naming its parameter. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const parameter = issue?.path[0] === undefined ? 'query' : String(issue.path[0]);
  throw new BadRequestError(parameter, issue?.message ?? 'invalid');
}

/** The WebSocket's only client message: follow one symbol. */
export const subscribeMessageSchema = z.object({
  type: z.literal('subscribe'),
  symbol: symbolSchema,
  depth: z.number().int().min(1).max(500).default(20),
});
