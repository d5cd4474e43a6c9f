import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import type { z } from 'zod';
import { classifyClickhouseError } from '@candleflow/common/error-classification';
import type { WebConfig } from './config.js';
import type { Sql } from './sql.js';

/** ClickHouse cannot answer right now (down, unreachable, too slow, or not yet migrated). */
export class ClickhouseUnavailableError extends Error {
  override name = 'ClickhouseUnavailableError';
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

/** The error for a failure that means "ClickHouse cannot answer now", or undefined for any other. */
function unavailable(error: unknown): ClickhouseUnavailableError | undefined {
  const { kind, summary } = classifyClickhouseError(error);
  return kind === 'unavailable' ? new ClickhouseUnavailableError(`ClickHouse is unavailable: ${summary}`) : undefined;
}

/**
 * The web server's read-only window on ClickHouse: one HTTP client, every query built
 * with `sql`, every result row checked against a schema before use. A row that fails
 * the check (NaN, an id beyond 2^53, a wrong shape) is left out of the answer and
 * reported through `onSkippedRows`: whatever the tables hold, readers answer with the
 * rest rather than failing the request.
 */
export class ClickhouseSource {
  readonly client: ClickHouseClient;
  /** Called after each query with its outcome, for metrics and the health state. */
  onOutcome: (outcome: 'ok' | 'unavailable' | 'error', seconds: number) => void = () => undefined;
  /** Called when a query's result had rows that were left out, with the first of them. */
  onSkippedRows: (count: number, example: string) => void = () => undefined;

  constructor(readonly config: WebConfig['clickhouse']) {
    this.client = createClient({
      url: config.url,
      database: config.database,
      username: config.username,
      password: config.password,
      request_timeout: config.timeoutMs,
      log: { level: ClickHouseLogLevel.OFF },
      clickhouse_settings: {
        // 64-bit integers (trade and update ids, *_ms times) as JSON numbers, not strings.
        output_format_json_quote_64bit_integers: 0,
        // ClickHouse (18.16 included) keeps running a query whose HTTP client left: stop it
        // about when the web gives up on it. Whole seconds, rounded up.
        max_execution_time: Math.ceil(config.timeoutMs / 1000),
      },
    });
  }

  /** Runs `query` and returns its rows parsed by `row`; rows that do not parse are left out. */
  async rows<S extends z.ZodType>(query: Sql, row: S): Promise<z.output<S>[]> {
    // JSONEachRow results are arrays of rows.
    const raw = await this.run(query, 'JSONEachRow', async (result) => (await result.json<unknown>()) as unknown[]);
    const rows: z.output<S>[] = [];
    let skipped = 0;
    let example = '';
    for (const value of raw) {
      const parsed = row.safeParse(value);
      if (parsed.success) {
        rows.push(parsed.data);
      } else if (skipped++ === 0) {
        example = `${JSON.stringify(value).slice(0, 200)}: ${parsed.error.issues[0]?.message ?? 'invalid'}`;
      }
    }
    if (skipped > 0) this.onSkippedRows(skipped, example);
    return rows;
  }

  /**
   * Runs `query` (every column numeric) and returns each row as `columns` numbers. For
   * large results: TabSeparated is several times cheaper than JSON for ClickHouse to
   * write and for Node to read; every field is still checked to be a finite number, and
   * rows with one that is not are left out.
   */
  async numberRows(query: Sql, columns: number): Promise<number[][]> {
    const text = await this.run(query, 'TabSeparated', (result) => result.text());
    const rows: number[][] = [];
    let skipped = 0;
    let example = '';
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const fields = text.slice(start, end).split('\t');
      const row = fields.map((field) => (field === '' ? Number.NaN : Number(field)));
      if (row.length === columns && row.every((n) => Number.isFinite(n))) rows.push(row);
      else if (skipped++ === 0) example = text.slice(start, Math.min(end, start + 200));
      start = end + 1;
    }
    if (skipped > 0) this.onSkippedRows(skipped, example);
    return rows;
  }

  /**
   * Runs `query` (every column numeric) and returns its rows as text, each field checked
   * to be a JSON number literal (ClickHouse writes `nan` and `inf` for non-finite floats;
   * those rows are left out). Lets a large result go to the client without being
   * converted to numbers and back.
   */
  async numericLines(query: Sql, columns: number): Promise<string[]> {
    const text = await this.run(query, 'TabSeparated', (result) => result.text());
    const line = columnsPattern(columns);
    const lines = text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
    const valid = lines.filter((l) => line.test(l));
    if (valid.length < lines.length) {
      this.onSkippedRows(lines.length - valid.length, lines.find((l) => !line.test(l))?.slice(0, 200) ?? '');
    }
    return valid;
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
      const down = unavailable(error);
      this.onOutcome(down ? 'unavailable' : 'error', (performance.now() - started) / 1000);
      throw down ?? error;
    }
  }

  /** Resolves when ClickHouse answers a trivial query in the configured database. */
  async check(): Promise<void> {
    try {
      await this.client.command({ query: 'SELECT 1' });
    } catch (error) {
      throw unavailable(error) ?? error;
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
