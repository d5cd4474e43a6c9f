/**
 * The web's read-only ClickHouse user (clickhouse/users.d/candleflow-web.xml), on a
 * private local ClickHouse started the way `npm run services:up` starts the shared one:
 * the web serves the market tables through it, and every kind of write is refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { migrate } from '@candleflow/common/clickhouse-migrations';
import { findProjectRoot } from '@candleflow/common/env';
import { freePort } from '@candleflow/common/free-port';
import { createLogger } from '@candleflow/common/logger';
import { uniqueName, waitUntil } from '@candleflow/common/testing';
import { toVersion } from '../scripts/local-services/clickhouse-binary.js';
import { clickhouseAcceptsUser, configRoot, localClickhouse, webUser } from '../scripts/local-services/clickhouse.js';
import { readWebConfig } from '../web/server/config.js';
import { startWebServer, type WebServer } from '../web/server/web-server.js';

const stateDir = mkdtempSync(path.join(tmpdir(), 'candleflow-clickhouse-'));
const url = `http://127.0.0.1:${await freePort()}`;
const database = uniqueName('web_user');
// XML's special characters: the local config must escape the password, not break on it.
const webPassword = `pw&<"'>${database}`;
const clickhouse = localClickhouse(findProjectRoot(), url, {
  stateDir,
  tcpPort: await freePort(),
  database,
  webPassword,
});
let admin: ClickHouseClient;
let reader: ClickHouseClient;
let web: WebServer;

before(async () => {
  await clickhouse.start();
  admin = createClient({ url, database });
  // Quiet: its refused queries are the point, not errors worth a log line.
  reader = createClient({
    url,
    database,
    username: webUser,
    password: webPassword,
    log: { level: ClickHouseLogLevel.OFF },
  });
  await migrate({ url, database });
  const minuteAgo = Date.now() - 60_000;
  await admin.insert({
    table: 'trades',
    format: 'JSONEachRow',
    values: [1, 2].map((id) => ({
      symbol: 'BTCUSDT',
      trade_id: id,
      price: 65_000 + id,
      qty: 0.5,
      trade_time_ms: minuteAgo + id,
      event_time_ms: minuteAgo + id,
      is_buyer_maker: 0,
    })),
  });
  web = await startWebServer(
    readWebConfig({
      WEB_HOST: '127.0.0.1',
      WEB_PORT: '0',
      CLICKHOUSE_URL: url,
      CLICKHOUSE_DB: database,
      CLICKHOUSE_USER: webUser,
      CLICKHOUSE_PASSWORD: webPassword,
    }),
    // The schema is the aggregator's job; this user could not create it anyway.
    { logger: createLogger('web', 'silent'), staticDir: stateDir, migrate: false },
  );
});

after(async () => {
  await web?.close();
  await Promise.all([admin?.close(), reader?.close()]);
  await clickhouse.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const tradeCount = async (): Promise<number> =>
  Number(
    (
      (await (await admin.query({ query: 'SELECT count() AS n FROM trades', format: 'JSONEachRow' })).json()) as [
        { n: string },
      ]
    )[0].n,
  );

test('the web, reading as the read-only user, is healthy and serves the trades', async () => {
  assert.equal((await fetch(`${web.url}/health`)).status, 200);
  const response = await fetch(`${web.url}/api/trades?symbol=BTCUSDT`);
  assert.equal(response.status, 200);
  const body = (await response.json()) as { trades: { id: number; price: number }[] };
  assert.deepEqual(
    body.trades.map((t) => [t.id, t.price]),
    [
      [2, 65_002],
      [1, 65_001],
    ],
  );
});

test('the read-only user can SELECT every market table', async () => {
  for (const table of ['trades', 'trade_windows', 'orderbook_snapshots', 'orderbook_updates']) {
    const rows = await (
      await reader.query({ query: `SELECT count() AS n FROM ${table}`, format: 'JSONEachRow' })
    ).json();
    assert.deepEqual(rows, [{ n: table === 'trades' ? '2' : '0' }], table);
  }
});

test('INSERT, CREATE, ALTER, DROP and lowering readonly are refused', async () => {
  const refused = /Code: 164\b.*readonly mode/;
  await assert.rejects(
    reader.insert({
      table: 'trades',
      format: 'JSONEachRow',
      values: [
        { symbol: 'BTCUSDT', trade_id: 3, price: 1, qty: 1, trade_time_ms: 1, event_time_ms: 1, is_buyer_maker: 0 },
      ],
    }),
    refused,
  );
  await assert.rejects(reader.command({ query: 'CREATE TABLE extra (x UInt8) ENGINE = Memory' }), refused);
  await assert.rejects(reader.command({ query: 'ALTER TABLE trades DELETE WHERE 1' }), refused);
  await assert.rejects(reader.command({ query: 'DROP TABLE trades' }), refused);
  await assert.rejects(reader.command({ query: 'SELECT 1', clickhouse_settings: { readonly: '0' } }), refused);
  assert.equal(await tradeCount(), 2, 'the trades are untouched');
});

test('other databases are out of reach, and a wrong password is refused', async () => {
  await admin.command({ query: 'CREATE TABLE default.elsewhere (x UInt8) ENGINE = Memory' });
  await assert.rejects(
    reader.query({ query: 'SELECT count() FROM default.elsewhere' }),
    /Access denied to database default|Not enough privileges/,
  );
  assert.equal(await clickhouseAcceptsUser(url, webUser, 'wrong'), false);
});

test("the server tells its version, and its config files have that version's root element", async () => {
  const described = (await clickhouse.describe?.(await clickhouse.state())) ?? '';
  const version = toVersion(/^ClickHouse (\S+)$/.exec(described)?.[1] ?? '');
  assert.ok(version, described);
  for (const file of ['config.xml', 'users.xml', 'users.d/candleflow-web.xml']) {
    const xml = readFileSync(path.join(stateDir, file), 'utf8');
    assert.match(xml, new RegExp(`^<${configRoot(version)}>$`, 'm'), file);
  }
});

test('a server started without the user gets it from update(), without a restart', async () => {
  rmSync(path.join(stateDir, 'users.d', 'candleflow-web.xml'));
  await waitUntil(
    'ClickHouse to drop the user',
    async () => !(await clickhouseAcceptsUser(url, webUser, webPassword)),
    {
      timeoutMs: 30_000,
      intervalMs: 250,
    },
  );
  await clickhouse.update?.();
  assert.equal(await clickhouseAcceptsUser(url, webUser, webPassword), true);
});
