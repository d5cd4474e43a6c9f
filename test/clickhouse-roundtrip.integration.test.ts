import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { testClickhouseUrl, uniqueName } from '@candleflow/common/testing';

const client = createClient({ url: testClickhouseUrl });
const db = uniqueName('roundtrip');
after(async () => {
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

test('@clickhouse/client: create database and table, insert JSONEachRow, select', async () => {
  await client.command({ query: `CREATE DATABASE ${db}` });
  await client.command({
    query: `CREATE TABLE ${db}.t (symbol String, id UInt64, price Float64, at DateTime) ENGINE = MergeTree() ORDER BY (symbol, id)`,
  });
  await client.insert({
    table: `${db}.t`,
    format: 'JSONEachRow',
    values: [
      { symbol: 'BTCUSDT', id: 2, price: 65000.5, at: '2024-05-01 00:00:10' },
      { symbol: 'BTCUSDT', id: 1, price: 64999.25, at: '2024-05-01 00:00:00' },
      { symbol: 'ETHUSDT', id: 1, price: 3000, at: '2024-05-01 00:00:00' },
    ],
  });
  const rows = await (
    await client.query({
      query: `SELECT symbol, toUInt32(id) AS id, price, toString(at) AS at FROM ${db}.t ORDER BY symbol, id`,
      format: 'JSONEachRow',
    })
  ).json();
  assert.deepEqual(rows, [
    { symbol: 'BTCUSDT', id: 1, price: 64999.25, at: '2024-05-01 00:00:00' },
    { symbol: 'BTCUSDT', id: 2, price: 65000.5, at: '2024-05-01 00:00:10' },
    { symbol: 'ETHUSDT', id: 1, price: 3000, at: '2024-05-01 00:00:00' },
  ]);
});
