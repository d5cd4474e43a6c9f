import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import type { z } from 'zod';
import type { WebConfig } from './config.js';
import type { Sql } from './sql.js';

/** ClickHouse cannot answer right now (down, unreachable, too slow, or not yet migrated). */
export class ClickhouseUnavailableError extends Error {
  override name = 'ClickhouseUnavailableError';
}

/** ClickHouse answered with rows that do not have the shape the contract promises. */
export class ClickhouseRowError extends Error {
  override name = 'ClickhouseRowError';
}

const networkCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
]);
// UNKNOWN_TABLE, UNKNOWN_DATABASE: the schema is not there (yet); TIMEOUT_EXCEEDED,
// TOO_MANY_SIMULTANEOUS_QUERIES, MEMORY_LIMIT_EXCEEDED: a busy server.
const unavailableServerCodes = new Set([60, 81, 159, 202, 241]);

/** Whether `error` means "ClickHouse cannot answer now" rather than a bad query. */
export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && networkCodes.has(code)) return true;
  if (/^Timeout error|socket hang up/i.test(error.message)) return true;
  // ClickHouse 18.16 errors arrive as plain text "Code: 60, e.displayText() = ...".
  const serverCode = /^Code: (\d+)/.exec(error.message)?.[1];
  return serverCode !== undefined && unavailableServerCodes.has(Number(serverCode));
}

const jsonNumber = '-?(?:0|[1-9]\\d*)(?:\\.\\d+)?(?:[eE][+-]?\\d+)?';
const columnPatterns = new Map<number, RegExp>();

/** A TabSeparated line of `columns` JSON number literals. */
function columnsPattern(columns: number): RegExp {
  let pattern = columnPatterns.get(columns);
  if (pattern === undefined) {
    pattern = new RegExp(`^${jsonNumber}(?:\\t${jsonNumber}){${columns - 1}}$`);
    columnPatterns.set(columns, pattern);
  }
  return pattern;
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const text = error.message.replace(/, e\.what\(\) = .*$/s, '').trim();
  return code && !text.includes(code) ? `${code} ${text}` : text;
}

/**
 * The web server's read-only window on ClickHouse: one HTTP client, every query built
 * with `sql`, every result row checked against a schema before use.
 */
export class ClickhouseSource {
  readonly client: ClickHouseClient;
  /** Called after each query with its outcome, for metrics and the health state. */
  onOutcome: (outcome: 'ok' | 'unavailable' | 'error', seconds: number) => void = () => undefined;

  constructor(readonly config: WebConfig['clickhouse']) {
    this.client = createClient({
      url: config.url,
      database: config.database,
      username: config.username,
      password: config.password,
      request_timeout: config.timeoutMs,
      log: { level: ClickHouseLogLevel.OFF },
      // 64-bit integers (trade and update ids, *_ms times) as JSON numbers, not strings.
      clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    });
  }

  /** Runs `query` and returns its rows parsed by `row`. */
  async rows<S extends z.ZodType>(query: Sql, row: S): Promise<z.output<S>[]> {
    // JSONEachRow results are arrays of rows.
    const raw = await this.run(query, 'JSONEachRow', async (result) => (await result.json<unknown>()) as unknown[]);
    return raw.map((value, i) => {
      const parsed = row.safeParse(value);
      if (!parsed.success) {
        throw new ClickhouseRowError(`unexpected row ${i} from ClickHouse: ${parsed.error.message}`);
      }
      return parsed.data;
    });
  }

  /**
   * Runs `query` (every column numeric) and returns each row as `columns` numbers. For
   * large results: TabSeparated is several times cheaper than JSON for ClickHouse to
   * write and for Node to read; every field is still checked to be a finite number.
   */
  async numberRows(query: Sql, columns: number): Promise<number[][]> {
    const text = await this.run(query, 'TabSeparated', (result) => result.text());
    const rows: number[][] = [];
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const fields = text.slice(start, end).split('\t');
      const row = fields.map((field) => (field === '' ? Number.NaN : Number(field)));
      if (row.length !== columns || row.some((n) => !Number.isFinite(n))) {
        throw new ClickhouseRowError(
          `unexpected row ${rows.length} from ClickHouse: ${text.slice(start, Math.min(end, start + 200))}`,
        );
      }
      rows.push(row);
      start = end + 1;
    }
    return rows;
  }

  /**
   * Runs `query` (every column numeric) and returns its rows as text, each field checked
   * to be a JSON number literal (ClickHouse writes `nan` and `inf` for non-finite floats;
   * those are refused). Lets a large result go to the client without being converted to
   * numbers and back.
   */
  async numericLines(query: Sql, columns: number): Promise<string[]> {
    const text = await this.run(query, 'TabSeparated', (result) => result.text());
    const line = columnsPattern(columns);
    const lines = text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
    lines.forEach((l, i) => {
      if (!line.test(l)) throw new ClickhouseRowError(`unexpected row ${i} from ClickHouse: ${l.slice(0, 200)}`);
    });
    return lines;
  }

  private async run<T>(
    query: Sql,
    format: 'JSONEachRow' | 'TabSeparated',
    read: (result: Awaited<ReturnType<ClickHouseClient['query']>>) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    try {
      const value = await read(await this.client.query({ query: query.toString(), format }));
      this.onOutcome('ok', (performance.now() - started) / 1000);
      return value;
    } catch (error) {
      const unavailable = isUnavailable(error);
      this.onOutcome(unavailable ? 'unavailable' : 'error', (performance.now() - started) / 1000);
      if (unavailable) throw new ClickhouseUnavailableError(`ClickHouse is unavailable: ${describe(error)}`);
      throw error;
    }
  }

  /** Resolves when ClickHouse answers a trivial query in the configured database. */
  async check(): Promise<void> {
    try {
      await this.client.command({ query: 'SELECT 1' });
    } catch (error) {
      if (isUnavailable(error)) throw new ClickhouseUnavailableError(`ClickHouse is unavailable: ${describe(error)}`);
      throw error;
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
