/**
 * The schema and every query the project sends, on two ClickHouse engines at once: the
 * local 18.16 server the other tests use, and a modern one (chDB, ClickHouse 26.x, in this
 * process; see support/engines.ts for why and how it is installed). The same fixture rows
 * as the web API tests go into both; each statement's answers are compared (normalised:
 * support/engine-comparison.ts). A statement that works on one engine and not the other,
 * or answers differently, fails the test with both answers or errors.
 *
 * Covered, each through the project's own code, never a copy of its SQL:
 * - schema: common/src/clickhouse-migrations.ts's own table and read, then every statement
 *   of clickhouse/migrations/*.sql in order, then all of them again (a second start: the
 *   runner's "column already exists" test must hold on both), and the resulting tables
 *   (engines, keys, columns, from system.tables and system.columns);
 * - writes: the aggregator's inserts into each table's `inputTable` (materialized views
 *   into the contract tables) by the sink's `insertRows`: trades and order-book levels in
 *   RowBinary, window rows as JSONEachRow lines by `rowJson`; every contract table read
 *   back with FINAL;
 * - aggregator: `finalWindowsQuery` (on partition assignment), `storedTradesQueries`
 *   (through `recomputeWindows`), and book-from-clickhouse.ts's `bookAtUpdateId`,
 *   `updateIdAtTime` and `bookAtTime`;
 * - web: what `ClickhouseSource` sends for `check`, every `MarketReader` method
 *   (`hasSymbol`, `latestWindowStart` full and bounded, `windowsJson`, `windowsFrom`,
 *   `recentWindows`, `latestTrades` bounded and whole, `quality`, `symbolSummaries`) and
 *   `OrderbookService.top` (first load, catch-up, resync to a newer snapshot).
 * The web's and book-from-clickhouse's SQL is captured by giving their real code a
 * recording ClickHouse client, so a query added to those methods is covered once the
 * method is called here; a new method or module that sends SQL needs a call added below.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { bookAtTime, bookAtUpdateId } from '@candleflow/aggregator/book-from-clickhouse';
import { binaryInsert, inputTable, type TableName, type TableRecords } from '@candleflow/aggregator/clickhouse-records';
import { finalWindowsQuery } from '@candleflow/aggregator/final-windows-query';
import { recomputeWindows, type StoredTrade } from '@candleflow/aggregator/window-recompute';
import {
  appliedVersionsSql,
  isColumnAddedBefore,
  readMigrations,
  schemaMigrationsTableSql,
} from '@candleflow/common/clickhouse-migrations';
import { testClickhouseUrl, uniqueName } from '@candleflow/common/testing';
import { ClickhouseSource } from '../web/server/clickhouse-source.js';
import { MarketReader } from '../web/server/market-reader.js';
import { OrderbookService } from '../web/server/orderbook-service.js';
import { compareAnswers, type EngineAnswer, type Outcome, type ResultFormat } from './support/engine-comparison.js';
import { btcLatestStart, fixtureInserts, resyncInserts, solStart, t0 } from './support/engine-fixtures.js';
import { chdbEngine, serverEngine, type Engine, type EngineSettings } from './support/engines.js';

const database = uniqueName('engines');
const windowMs = 10_000;
const day = 24 * 3600_000;
/** The aggregator's client leaves 64-bit integers quoted (the default, made explicit); the web's asks for numbers. */
const aggregatorSettings: EngineSettings = { output_format_json_quote_64bit_integers: 1 };
const webSettings: EngineSettings = { output_format_json_quote_64bit_integers: 0 };

const admin = createClient({ url: testClickhouseUrl, log: { level: ClickHouseLogLevel.OFF } });
let server: Engine | undefined;
let modern: Engine | undefined;

before(async () => {
  await admin.command({ query: `CREATE DATABASE ${database}` });
  server = await serverEngine(testClickhouseUrl, database);
  const [zone] = await (
    await admin.query({ query: 'SELECT timezone() AS tz', format: 'JSONEachRow' })
  ).json<{
    tz: string;
  }>();
  // Throws, failing every test with how to install it, where chDB is missing.
  modern = await chdbEngine(database, zone?.tz ?? 'UTC');
});

after(async () => {
  await server?.close();
  await modern?.close();
  await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
  await admin.close();
});

function engines(): [Engine, Engine] {
  assert.ok(server && modern, 'both engines are up (see the before hook error)');
  return [server, modern];
}

interface Statement {
  label: string;
  sql: string;
  format: ResultFormat;
  settings?: EngineSettings;
  /** Turns an error both engines may give (an expected one) into an answer. */
  expectedError?: (error: string) => string | undefined;
}

function answer(engine: Engine, outcome: Outcome, statement: Statement): EngineAnswer {
  if (!outcome.ok && statement.expectedError) {
    const expected = statement.expectedError(outcome.error);
    if (expected !== undefined) return { engine: engine.name, outcome: { ok: true, text: expected } };
  }
  return { engine: engine.name, outcome };
}

/** Runs each statement on both engines, in order; returns the differences found. */
async function compareAll(statements: readonly Statement[]): Promise<string[]> {
  const [a, b] = engines();
  const differences: string[] = [];
  for (const statement of statements) {
    const [x, y] = await Promise.all([
      a.run(statement.sql, statement.format, statement.settings),
      b.run(statement.sql, statement.format, statement.settings),
    ]);
    const difference = compareAnswers(statement, answer(a, x, statement), answer(b, y, statement));
    if (difference !== undefined) differences.push(difference);
  }
  return differences;
}

/** Inserts the same rows (JSONEachRow by `rowJson`) on both engines; returns the difference, if any. */
async function insertBoth(label: string, table: string, rows: readonly object[]): Promise<string[]> {
  const [a, b] = engines();
  const [x, y] = await Promise.all([a.insert(table, rows), b.insert(table, rows)]);
  const statement = {
    label,
    sql: `INSERT INTO ${table} FORMAT JSONEachRow (${rows.length} rows)`,
    format: 'none' as const,
  };
  const difference = compareAnswers(statement, { engine: a.name, outcome: x }, { engine: b.name, outcome: y });
  return difference === undefined ? [] : [difference];
}

/** Rows of a contract table as the aggregator inserts them (insertRows) on both engines; returns the difference, if any. */
async function insertRowsBoth<T extends TableName>(table: T, values: TableRecords[T]): Promise<string[]> {
  const [a, b] = engines();
  const [x, y] = await Promise.all([a.insertRows(table, values), b.insertRows(table, values)]);
  const format = binaryInsert(table, values) === undefined ? 'JSONEachRow' : 'RowBinary';
  const statement = {
    label: `aggregator insert into ${table}`,
    sql: `INSERT INTO ${inputTable(table)} FORMAT ${format} (${values.length} rows)`,
    format: 'none' as const,
  };
  const difference = compareAnswers(statement, { engine: a.name, outcome: x }, { engine: b.name, outcome: y });
  return difference === undefined ? [] : [difference];
}

/** The aggregator's writes: each table's rows into its input table, as ClickhouseSink.insert sends them. */
async function aggregatorInserts(inserts: readonly { table: TableName; rows: object[] }[]): Promise<string[]> {
  const differences: string[] = [];
  for (const { table, rows } of inserts) {
    differences.push(...(await insertRowsBoth(table, rows as TableRecords[typeof table])));
  }
  return differences;
}

function assertSame(differences: readonly string[]): void {
  assert.equal(
    differences.length,
    0,
    `${differences.length} statement(s) differ between the engines:\n\n${differences.join('\n\n')}`,
  );
}

/** Every contract table, one row per key (FINAL), in key order: what the views wrote. */
const tableDumps: Statement[] = [
  ['trades', 'symbol, trade_time_ms, trade_id'],
  ['trade_windows', 'symbol, window_start'],
  ['orderbook_snapshots', 'symbol, last_update_id, side, price'],
  ['orderbook_updates', 'symbol, last_update_id, side, price'],
].map(([table, key]) => ({
  label: `${table} FINAL, read back`,
  sql: `SELECT * FROM ${table} FINAL ORDER BY ${key}`,
  format: 'JSONEachRow',
  settings: aggregatorSettings,
}));

test('the migrations, applied twice, run on both engines and build the same tables', async () => {
  const migrations = readMigrations();
  const statements: Statement[] = [
    { label: 'migration runner: its table', sql: schemaMigrationsTableSql, format: 'none' },
    { label: 'migration runner: applied versions', sql: appliedVersionsSql, format: 'JSONEachRow' },
  ];
  for (const pass of ['first', 'second'] as const) {
    for (const migration of migrations) {
      migration.statements.forEach((sql, i) => {
        statements.push({
          label: `migration ${migration.version}_${migration.name} statement ${i + 1} (${pass} run)`,
          sql,
          format: 'none',
          // A second start meets columns added by the first: the runner must recognise that on both.
          expectedError: (error) =>
            pass === 'second' && isColumnAddedBefore(sql, new Error(error)) ? '(column added before)' : undefined,
        });
      });
    }
  }
  const differences = await compareAll(statements);
  const applied = migrations.map((m) => ({ version: m.version, name: m.name, applied_at: Math.floor(t0 / 1000) }));
  differences.push(...(await insertBoth('migration runner: record', 'schema_migrations', applied)));
  differences.push(
    ...(await compareAll([
      { label: 'migration runner: applied versions, after', sql: appliedVersionsSql, format: 'JSONEachRow' },
      {
        label: 'schema: tables and their keys',
        sql: `SELECT name, engine, partition_key, sorting_key, primary_key FROM system.tables
          WHERE database = currentDatabase() ORDER BY name`,
        format: 'JSONEachRow',
      },
      {
        label: 'schema: columns',
        // Not default_expression: 18.16 keeps `DEFAULT 0` of a UInt64 column as CAST(0, 'UInt64'), modern servers as 0.
        sql: `SELECT table, name, type, default_kind, is_in_partition_key, is_in_sorting_key
          FROM system.columns WHERE database = currentDatabase() ORDER BY table, name`,
        format: 'JSONEachRow',
      },
    ])),
  );
  assertSame(differences);
});

/** The tables the views write, where rows that share a key wait for a merge (or FINAL). */
const contractTables = ['trades', 'trade_windows', 'orderbook_snapshots', 'orderbook_updates'];

test("the aggregator's inserts reach the contract tables alike through the views, read back with FINAL", async () => {
  // No background merges, on either engine: both keep every row written, so that FINAL has
  // duplicates to collapse, and reads without FINAL (count(), uniqExact) see the same rows.
  const stopMerges = await compareAll(
    contractTables.map((table) => ({
      label: 'test setup',
      sql: `SYSTEM STOP MERGES ${database}.${table}`,
      format: 'none',
    })),
  );
  assertSame([...stopMerges, ...(await aggregatorInserts(fixtureInserts())), ...(await compareAll(tableDumps))]);
});

/**
 * Captures the SQL the project's own code sends, without copying it: `wrap` gives that code
 * a ClickHouse client recording each `query` and `command` before sending it (to 18.16), and
 * `step` runs one call of it under a label. A call that fails is noted and the run goes on:
 * the comparison then shows which statement failed where.
 */
class Recorder {
  readonly sent: Statement[] = [];
  readonly failures: string[] = [];
  private label = '';

  constructor(private readonly settings: EngineSettings) {}

  wrap(client: ClickHouseClient): ClickHouseClient {
    return new Proxy(client, {
      get: (target, property) => {
        if (property === 'query' || property === 'command') {
          return (params: { query: string; format?: string }) => {
            const format = property === 'command' ? 'none' : params.format;
            if (format === 'JSONEachRow' || format === 'TabSeparated' || format === 'none') {
              this.sent.push({ label: this.label, sql: params.query, format, settings: this.settings });
            } else {
              this.failures.push(
                `${this.label}: answers in ${format}, which engine-comparison.ts does not compare yet`,
              );
            }
            return property === 'query'
              ? target.query(params as Parameters<ClickHouseClient['query']>[0])
              : target.command(params);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  async step(label: string, work: () => Promise<unknown>): Promise<void> {
    this.label = label;
    try {
      await work();
    } catch (error) {
      this.failures.push(
        `${label} failed on ${engines()[0].name}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  /** The statements recorded since the last call, each once (in the order first sent). */
  take(): Statement[] {
    const seen = new Set<string>();
    const statements = this.sent.filter((s) => !seen.has(`${s.format}\n${s.sql}`) && seen.add(`${s.format}\n${s.sql}`));
    this.sent.length = 0;
    return statements;
  }
}

test('every query the aggregator sends answers the same on both engines', async () => {
  const recorder = new Recorder(aggregatorSettings);
  const client = createClient({ url: testClickhouseUrl, database, log: { level: ClickHouseLogLevel.OFF } });
  const recorded = recorder.wrap(client);
  try {
    // As ClickhouseSink.query sends them.
    const sinkQuery = async <T>(sql: string): Promise<T[]> =>
      (await recorded.query({ query: sql, format: 'JSONEachRow' })).json<T>();
    await recorder.step('aggregator loadFinalWindows', () => sinkQuery(finalWindowsQuery));
    await recorder.step('aggregator recomputeWindows (storedTradesQueries)', () =>
      recomputeWindows(
        [
          { symbol: 'BTCUSDT', windowStartMs: btcLatestStart },
          { symbol: 'BTCUSDT', windowStartMs: btcLatestStart - windowMs },
          { symbol: 'SOLUSDT', windowStartMs: solStart },
        ],
        windowMs,
        (sql) => sinkQuery<StoredTrade>(sql),
      ),
    );
    await recorder.step('aggregator bookAtUpdateId', () => bookAtUpdateId(recorded, 'BTCUSDT', 102));
    await recorder.step('aggregator bookAtUpdateId (before any snapshot)', () =>
      bookAtUpdateId(recorded, 'BTCUSDT', 50),
    );
    await recorder.step('aggregator bookAtTime (updateIdAtTime)', () =>
      bookAtTime(recorded, 'BTCUSDT', btcLatestStart + 2150),
    );
  } finally {
    await client.close();
  }
  const statements = recorder.take();
  assert.ok(statements.length >= 7, `the aggregator's queries were recorded (${statements.length})`);
  assertSame([...(await compareAll(statements)), ...recorder.failures]);
});

/**
 * MarketReader's methods, each called below. A method added to it fails this list's check
 * until it is called here too, so that its queries are compared.
 */
const readerMethodsCalled = [
  'hasSymbol',
  'latestWindowStart',
  'windowsJson',
  'recentWindows',
  'windowsFrom',
  'latestTrades',
  'quality',
  'symbolSummaries',
];

test('every query the web sends answers the same on both engines', async () => {
  const methods = Object.getOwnPropertyNames(MarketReader.prototype).filter((name) => name !== 'constructor');
  assert.deepEqual(
    methods.filter((name) => !readerMethodsCalled.includes(name)),
    [],
    'MarketReader methods the engine comparison does not call yet: add a step for each, and its name to readerMethodsCalled',
  );
  const recorder = new Recorder(webSettings);
  const source = new ClickhouseSource({
    url: testClickhouseUrl,
    database,
    username: 'default',
    password: '',
    timeoutMs: 10_000,
  });
  // The real source with its client recording: the readers send exactly what they send in production.
  Object.defineProperty(source, 'client', { value: recorder.wrap(source.client) });
  const reader = new MarketReader(source, windowMs);
  const books = new OrderbookService(source, { maxAgeMs: 0 });
  const differences: string[] = [];
  try {
    await recorder.step('web ClickhouseSource.check', () => source.check());
    await recorder.step('web MarketReader.hasSymbol', () => reader.hasSymbol('BTCUSDT'));
    await recorder.step('web MarketReader.hasSymbol (no data)', () => reader.hasSymbol('XRPUSDT'));
    await recorder.step('web MarketReader.latestWindowStart', () => reader.latestWindowStart('BTCUSDT'));
    await recorder.step('web MarketReader.latestWindowStart (bounded)', () => reader.latestWindowStart('BTCUSDT'));
    await recorder.step('web MarketReader.windowsJson', () =>
      reader.windowsJson('BTCUSDT', btcLatestStart - 15 * 60_000, btcLatestStart + windowMs),
    );
    await recorder.step('web MarketReader.windowsFrom', () => reader.windowsFrom('SOLUSDT', solStart - day));
    await recorder.step('web MarketReader.recentWindows', () => reader.recentWindows('BTCUSDT', 5 * 60_000));
    await recorder.step('web MarketReader.latestTrades', () => reader.latestTrades('BTCUSDT', 5));
    await recorder.step('web MarketReader.latestTrades (too few recent: whole history)', () =>
      reader.latestTrades('BTCUSDT', 1000),
    );
    await recorder.step('web MarketReader.quality', () => reader.quality('SOLUSDT', solStart, solStart + windowMs));
    await recorder.step('web MarketReader.quality (wide range)', () =>
      reader.quality('BTCUSDT', t0 - 3600_000, btcLatestStart + windowMs),
    );
    await recorder.step('web MarketReader.symbolSummaries', () => reader.symbolSummaries());
    await recorder.step('web OrderbookService.top (load)', () => books.top('BTCUSDT', 20));
    await recorder.step('web OrderbookService.top (no snapshot)', () => books.top('ETHUSDT', 20));
    differences.push(...(await compareAll(recorder.take())));
    // A resync: the next look finds a newer snapshot, then catches up from it.
    differences.push(...(await aggregatorInserts(resyncInserts())));
    await recorder.step('web OrderbookService.top (newer snapshot)', () => books.top('BTCUSDT', 20));
    await recorder.step('web OrderbookService.top (catch-up)', () => books.top('BTCUSDT', 20));
  } finally {
    await source.close();
  }
  differences.push(...(await compareAll(recorder.take())));
  differences.push(...(await compareAll(tableDumps.filter((d) => d.label.startsWith('orderbook')))));
  assertSame([...differences, ...recorder.failures]);
});
