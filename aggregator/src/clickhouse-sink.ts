import { setTimeout as sleep } from 'node:timers/promises';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Logger } from '@candleflow/common/logger';
import { inputTable, type TableName, type TableRecords } from './clickhouse-records.js';
import type { AggregatorMetrics } from './metrics.js';

/** Thrown by a sink call interrupted by close(). */
export class SinkClosedError extends Error {
  override name = 'SinkClosedError';
}

export interface RetryPolicy {
  minMs: number;
  maxMs: number;
}

/**
 * ClickHouse behind retries: JSONEachRow inserts and JSON queries that retry with
 * exponential backoff (min..max delay) until they succeed or the sink is closed. Inserts
 * are safe to repeat: every table is a ReplacingMergeTree keyed so that a repeated row
 * collapses into the original.
 */
export class ClickhouseSink {
  private closed = false;
  private readonly abort = new AbortController();
  private healthy = true;

  constructor(
    private readonly client: ClickHouseClient,
    private readonly options: { retry: RetryPolicy; logger: Logger; metrics: AggregatorMetrics },
  ) {
    options.metrics.clickhouseUp.set(1);
  }

  /** Whether the last request succeeded. */
  get isHealthy(): boolean {
    return this.healthy;
  }

  /** Inserts rows of a contract table, through its input table (see migration 0002). */
  async insert<T extends TableName>(table: T, values: TableRecords[T]): Promise<void> {
    if (values.length === 0) return;
    await this.withRetry(`insert into ${table}`, 'insert', async () => {
      const stop = this.options.metrics.insertSeconds.startTimer({ table });
      await this.client.insert<object>({ table: inputTable(table), values: [...values], format: 'JSONEachRow' });
      stop();
    });
    this.options.metrics.rowsInserted.inc({ table }, values.length);
  }

  async query<T>(sql: string): Promise<T[]> {
    return this.withRetry('query', 'query', async () => {
      const result = await this.client.query({ query: sql, format: 'JSONEachRow' });
      return result.json<T>();
    });
  }

  /** Stops retrying: calls in progress and later calls reject with SinkClosedError. */
  close(): void {
    this.closed = true;
    this.abort.abort();
  }

  private async withRetry<T>(what: string, operation: string, attempt: () => Promise<T>): Promise<T> {
    let delay = this.options.retry.minMs;
    for (;;) {
      if (this.closed) throw new SinkClosedError(`ClickHouse sink closed before ${what} succeeded`);
      try {
        const value = await attempt();
        this.setHealthy(true);
        return value;
      } catch (error) {
        if (this.closed) throw new SinkClosedError(`ClickHouse sink closed before ${what} succeeded`);
        this.options.metrics.clickhouseErrors.inc({ operation });
        this.setHealthy(false);
        this.options.logger.warn(
          { err: error instanceof Error ? error.message : String(error), retryInMs: delay },
          `ClickHouse ${what} failed; retrying`,
        );
        try {
          await sleep(delay, undefined, { signal: this.abort.signal });
        } catch {
          throw new SinkClosedError(`ClickHouse sink closed before ${what} succeeded`);
        }
        delay = Math.min(delay * 2, Math.max(this.options.retry.maxMs, this.options.retry.minMs));
      }
    }
  }

  private setHealthy(healthy: boolean): void {
    if (healthy === this.healthy) return;
    this.healthy = healthy;
    this.options.metrics.clickhouseUp.set(healthy ? 1 : 0);
    if (healthy) this.options.logger.info('ClickHouse reachable again');
  }
}
