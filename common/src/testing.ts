/**
 * Helpers for the project's tests: where the real servers are, unique names so test
 * files can share one Kafka and one ClickHouse, and condition waits instead of sleeps.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export const testKafkaBrokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
export const testClickhouseUrl = process.env.CLICKHOUSE_URL ?? 'http://127.0.0.1:8123';

/** `prefix` plus a random suffix, valid as a Kafka topic, group or ClickHouse database name. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/**
 * Polls `check` until it returns a value other than undefined/false, and returns it.
 * On timeout, fails with `what` and the last value `describe` gives, so a failing test
 * says how far it got.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${options.describe ? `: ${options.describe()}` : ''}`);
    }
    await sleep(options.intervalMs ?? 100);
  }
}
