import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import { classifyClickhouseError, type ClassifiedError } from '@candleflow/common/error-classification';
import type { Logger } from '@candleflow/common/logger';
import { retry, type BackoffOptions } from '@candleflow/common/retry';
import { binaryInsert, inputTable, type TableName, type TableRecords } from './clickhouse-records.js';
import type { AggregatorMetrics } from './metrics.js';

/**
 * Inserts rows of `table` through its input table, in RowBinary where binaryInsert has an
 * encoding (which the client's insert() does not offer), else as JSONEachRow.
 */
export async function insertRows<T extends TableName>(
  client: ClickHouseClient,
  table: T,
  values: TableRecords[T],
): Promise<void> {
  const binary = binaryInsert(table, values);
  if (binary === undefined) {
    // Each record goes through the client's `json.stringify` (rowJson).
    await client.insert<object>({ table: inputTable(table), values: [...values] as object[], format: 'JSONEachRow' });
    return;
  }
  const { stream } = await client.exec({
    query: `INSERT INTO ${inputTable(table)} (${binary.columns}) FORMAT RowBinary`,
    values: Readable.from([binary.body]),
  });
  // The answer is empty; read to its end so that the connection goes back to the pool.
  stream.resume();
  await finished(stream);
}

/** Thrown by a sink call interrupted by close(). */
export class SinkClosedError extends Error {
  override name = 'SinkClosedError';
}

/** A row ClickHouse refused for its content, with ClickHouse's reason. */
export interface RefusedRow<T extends TableName = TableName> {
  table: T;
  row: TableRecords[T][number];
  reason: string;
}

/**
 * ClickHouse behind retries: inserts (RowBinary or JSONEachRow, see insertRows) and JSON queries. What fails because
 * ClickHouse cannot answer now is retried with exponential backoff until it succeeds or
 * the sink is closed; an insert ClickHouse refuses for its data is split in halves until
 * the refused rows are found, and the rest is written. Inserts are safe to repeat: every
 * table is a ReplacingMergeTree keyed so that a repeated row collapses into the original.
 */
export class ClickhouseSink {
  private readonly abort = new AbortController();
  private healthy = true;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly options: { retry: BackoffOptions; logger: Logger; metrics: AggregatorMetrics },
  ) {
    options.metrics.clickhouseUp.set(1);
  }

  /** Whether the last request succeeded. */
  get isHealthy(): boolean {
    return this.healthy;
  }

  /**
   * Inserts rows of a contract table, through its input table (see migration 0002), and
   * returns the rows ClickHouse refused (each written alone and refused for its content).
   */
  async insert<T extends TableName>(table: T, values: TableRecords[T]): Promise<RefusedRow<T>[]> {
    const refused: RefusedRow<T>[] = [];
    if (values.length > 0) await this.insertPart(table, values, refused);
    return refused;
  }

  async query<T>(sql: string): Promise<T[]> {
    return this.withRetry('query', 'query', async () => {
      const result = await this.client.query({ query: sql, format: 'JSONEachRow' });
      return result.json<T>();
    });
  }

  /** Stops retrying: calls in progress and later calls reject with SinkClosedError. */
  close(): void {
    this.abort.abort(new SinkClosedError('ClickHouse sink closed before the request succeeded'));
  }

  private async insertPart<T extends TableName>(
    table: T,
    values: TableRecords[T],
    refused: RefusedRow<T>[],
  ): Promise<void> {
    try {
      await this.withRetry(`insert into ${table}`, 'insert', async () => {
        const stop = this.options.metrics.insertSeconds.startTimer({ table });
        await insertRows(this.client, table, values);
        stop();
      });
      this.options.metrics.rowsInserted.inc({ table }, values.length);
    } catch (error) {
      if (!(error instanceof DataRefusedError)) throw error;
      if (values.length === 1) {
        refused.push({ table, row: values[0] as TableRecords[T][number], reason: error.classified.summary });
        this.options.logger.warn(
          { table, reason: error.classified.summary },
          'ClickHouse refused a row; it goes to the DLQ',
        );
        return;
      }
      // Halves in order, so that each table still receives its rows in the order they were read.
      const middle = Math.ceil(values.length / 2);
      await this.insertPart(table, values.slice(0, middle) as TableRecords[T], refused);
      await this.insertPart(table, values.slice(middle) as TableRecords[T], refused);
    }
  }

  private async withRetry<T>(what: string, operation: string, attempt: () => Promise<T>): Promise<T> {
    const { signal } = this.abort;
    try {
      const value = await retry(
        async () => {
          signal.throwIfAborted();
          try {
            return await attempt();
          } catch (error) {
            const classified = classifyClickhouseError(error);
            this.options.metrics.clickhouseErrors.inc({ operation, kind: classified.kind });
            if (classified.kind === 'data') throw new DataRefusedError(classified);
            throw error;
          }
        },
        {
          ...this.options.retry,
          signal,
          retryable: (error) => !(error instanceof DataRefusedError) && !signal.aborted,
          onRetry: (error, _attempt, delayMs) => {
            this.setHealthy(false);
            const { kind, summary } = classifyClickhouseError(error);
            // A query ClickHouse calls wrong is retried too (a schema being migrated, a
            // permission being granted), but louder: it does not pass by waiting alone.
            const log = kind === 'query' ? this.options.logger.error : this.options.logger.warn;
            log.call(this.options.logger, { err: summary, retryInMs: delayMs }, `ClickHouse ${what} failed; retrying`);
          },
        },
      );
      this.setHealthy(true);
      return value;
    } catch (error) {
      if (signal.aborted) throw new SinkClosedError(`ClickHouse sink closed before ${what} succeeded`);
      if (error instanceof DataRefusedError) this.setHealthy(true);
      throw error;
    }
  }

  private setHealthy(healthy: boolean): void {
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    this.options.metrics.clickhouseUp.set(healthy ? 1 : 0);
    if (healthy) this.options.logger.info('ClickHouse reachable again');
  }
}

/** ClickHouse refused the rows of a request for their content: not worth retrying as they are. */
class DataRefusedError extends Error {
  override name = 'DataRefusedError';
  constructor(readonly classified: ClassifiedError) {
    super(classified.summary);
  }
}
