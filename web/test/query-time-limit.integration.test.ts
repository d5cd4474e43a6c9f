/**
 * ClickHouse 18.16 keeps running a query whose HTTP client went away; the web sets
 * `max_execution_time` to its own time limit so that a query it gave up on stops too.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { z } from 'zod';
import { testClickhouseUrl, waitUntil } from '@candleflow/common/testing';
import { ClickhouseSource, ClickhouseUnavailableError } from '../server/clickhouse-source.js';
import { sql } from '../server/sql.js';

const source = new ClickhouseSource({
  url: testClickhouseUrl,
  database: 'system',
  username: 'default',
  password: '',
  timeoutMs: 1500,
});
const admin = createClient({ url: testClickhouseUrl });

after(async () => {
  await source.close();
  await admin.close();
});

test('queries carry max_execution_time: the time limit in whole seconds, rounded up', async () => {
  const rows = await source.rows(
    sql`SELECT value FROM system.settings WHERE name = 'max_execution_time'`,
    z.object({ value: z.string() }),
  );
  assert.deepEqual(rows, [{ value: '2' }]);
});

test('a query past the time limit fails as "unavailable" and stops running in ClickHouse', async () => {
  const marker = `web_time_limit_${randomBytes(4).toString('hex')}`;
  // Minutes of work without the limit.
  const slow = sql`SELECT count() AS n FROM system.numbers_mt WHERE sipHash64(number) = 1 AND ${marker} != ''`;
  const started = Date.now();
  await assert.rejects(source.rows(slow, z.object({ n: z.number() })), ClickhouseUnavailableError);
  assert.ok(Date.now() - started < 5000, `gave up after ${Date.now() - started} ms`);
  const running = async () => {
    const result = await admin.query({
      query: `SELECT count() AS n FROM system.processes WHERE query LIKE '%${marker}%' AND query NOT LIKE '%system.processes%'`,
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ n: string | number }>();
    return Number(row?.n ?? 0);
  };
  await waitUntil('the query to stop in ClickHouse', async () => (await running()) === 0, {
    timeoutMs: 5000,
    describe: () => 'still in system.processes',
  });
});
