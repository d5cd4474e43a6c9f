import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createClient } from '@clickhouse/client';
import { migrate, parseMigrationSql, readMigrations } from '../src/clickhouse-migrations.js';
import { testClickhouseUrl, uniqueName } from '../src/testing.js';

const db = uniqueName('migrations');
const client = createClient({ url: testClickhouseUrl });
after(async () => {
  await client.command({ query: `DROP DATABASE IF EXISTS ${db}` });
  await client.close();
});

test('parseMigrationSql splits statements and drops comments', () => {
  assert.deepEqual(parseMigrationSql('-- a; comment\nCREATE TABLE a (x UInt8) ENGINE = Log; -- tail\n\nSELECT 1;\n'), [
    'CREATE TABLE a (x UInt8) ENGINE = Log',
    'SELECT 1',
  ]);
});

test('migrate creates every contract table once, and a second run applies nothing', async () => {
  const all = readMigrations().map((m) => m.version);
  assert.deepEqual(await migrate({ url: testClickhouseUrl, database: db }), all);
  assert.deepEqual(await migrate({ url: testClickhouseUrl, database: db }), []);
  const tables = await (
    await client.query({
      query: `SELECT name FROM system.tables WHERE database = '${db}' ORDER BY name`,
      format: 'JSONEachRow',
    })
  ).json<{ name: string }>();
  assert.deepEqual(
    tables.map((t) => t.name),
    [
      'orderbook_snapshots',
      'orderbook_snapshots_input',
      'orderbook_snapshots_input_mv',
      'orderbook_updates',
      'orderbook_updates_input',
      'orderbook_updates_input_mv',
      'schema_migrations',
      'trade_windows',
      'trade_windows_input_v2',
      'trade_windows_input_v2_mv',
      'trades',
      'trades_input_v2',
      'trades_input_v2_mv',
    ],
  );
});

test('migrations applied before without a record (Docker init, a concurrent start) apply again cleanly', async () => {
  const docker = uniqueName('migrations_init');
  await client.command({ query: `CREATE DATABASE ${docker}` });
  try {
    const scoped = createClient({ url: testClickhouseUrl, database: docker });
    try {
      // What clickhouse/docker-init.sh does: every statement, no schema_migrations.
      for (const migration of readMigrations()) {
        for (const statement of migration.statements) await scoped.command({ query: statement });
      }
    } finally {
      await scoped.close();
    }
    assert.deepEqual(
      await migrate({ url: testClickhouseUrl, database: docker }),
      readMigrations().map((m) => m.version),
    );
    const columns = await (
      await client.query({
        query: `SELECT name FROM system.columns WHERE database = '${docker}' AND table = 'trade_windows' AND name = 'missing_trades'`,
        format: 'JSONEachRow',
      })
    ).json<{ name: string }>();
    assert.deepEqual(columns, [{ name: 'missing_trades' }]);
  } finally {
    await client.command({ query: `DROP DATABASE IF EXISTS ${docker}` });
  }
});
