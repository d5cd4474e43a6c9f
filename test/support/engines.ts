/**
 * Two ClickHouse engines behind one interface, for running the same statements on both:
 * the local ClickHouse 18.16 server (HTTP, `@clickhouse/client`, as the services talk to
 * it) and chDB, a modern ClickHouse (26.x) as a library inside this Node process.
 *
 * Why chDB's npm package, installed into `.local/chdb` rather than a devDependency: it
 * installs from the npm registry alone (its prebuilt `libchdb.so` comes in the optional
 * platform package `@chdb/lib-linux-x64-gnu`, no GitHub download, and its install script
 * does nothing), and it runs in-process, so the fallback, PyPI's `chdb` behind a Python
 * helper process, is not needed. But that library is 178 MB to download (543 MB unpacked):
 * as a devDependency every `npm ci`, the Docker image build included, would fetch it for
 * one test. So `npm run chdb:install` (pinned version, run by .ci/run) puts it under
 * `.local/`, and the engine test fails, saying so, where it is missing.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import {
  binaryInsert,
  inputTable,
  rowJson,
  type TableName,
  type TableRecords,
} from '@candleflow/aggregator/clickhouse-records';
import { insertRows } from '@candleflow/aggregator/clickhouse-sink';
import { findProjectRoot } from '@candleflow/common/env';
import type { Outcome, ResultFormat } from './engine-comparison.js';

/** Per-statement settings, the same on both engines. */
export type EngineSettings = Record<string, string | number>;

export interface Engine {
  /** Name and version, e.g. `ClickHouse 18.16.1 (server)`. */
  readonly name: string;
  /** Runs one statement in the engine's database; never throws. */
  run(sql: string, format: ResultFormat, settings?: EngineSettings): Promise<Outcome>;
  /** Inserts rows into `table` as JSONEachRow lines written by the aggregator's `rowJson`; never throws. */
  insert(table: string, rows: readonly object[]): Promise<Outcome>;
  /** Inserts rows of a contract table as the aggregator does (insertRows: RowBinary where it has one), into its input table; never throws. */
  insertRows<T extends TableName>(table: T, values: TableRecords[T]): Promise<Outcome>;
  close(): Promise<void>;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The local (18.16) server, in `database`, which must exist. */
export async function serverEngine(url: string, database: string): Promise<Engine> {
  const client: ClickHouseClient = createClient({
    url,
    database,
    log: { level: ClickHouseLogLevel.OFF },
    // As the aggregator's client (aggregator.ts): exact decimals written with all their digits.
    json: { parse: JSON.parse, stringify: rowJson },
  });
  const version = await (
    await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
  ).json<{
    v: string;
  }>();
  return {
    name: `ClickHouse ${version[0]?.v ?? '?'} (server)`,
    async run(sql, format, settings = {}) {
      try {
        if (format === 'none') {
          await client.command({ query: sql, clickhouse_settings: settings });
          return { ok: true, text: '' };
        }
        const result = await client.query({ query: sql, format, clickhouse_settings: settings });
        return { ok: true, text: await result.text() };
      } catch (error) {
        return { ok: false, error: errorText(error) };
      }
    },
    async insert(table, rows) {
      try {
        await client.insert({ table, values: [...rows], format: 'JSONEachRow' });
        return { ok: true, text: '' };
      } catch (error) {
        return { ok: false, error: errorText(error) };
      }
    },
    async insertRows(table, values) {
      try {
        await insertRows(client, table, values);
        return { ok: true, text: '' };
      } catch (error) {
        return { ok: false, error: errorText(error) };
      }
    },
    close: () => client.close(),
  };
}

/** The part of chDB's `Session` used here (chdb/index.d.ts). */
interface ChdbSession {
  queryAsync(query: string, options?: { format?: string }): Promise<{ text(): string }>;
  insert(params: { table: string; values: string; format: 'JSONEachRow' }): Promise<unknown>;
  close(): void;
}

interface ChdbModule {
  Session: new () => ChdbSession;
}

const chdbDir = (): string => path.join(findProjectRoot(), '.local', 'chdb', 'node_modules', 'chdb');

/** The chDB version `npm run chdb:install` installs (root package.json, the one place it is pinned). */
export function pinnedChdbVersion(): string {
  const pkg = JSON.parse(readFileSync(path.join(findProjectRoot(), 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const version = /\bchdb@(\S+)/.exec(pkg.scripts?.['chdb:install'] ?? '')?.[1];
  if (version === undefined) throw new Error('package.json has no "chdb:install" script naming chdb@<version>');
  return version;
}

/**
 * Loads chDB from `.local/chdb`, or throws saying how to install it: the comparison must
 * fail where the modern engine is missing, never pass without it.
 */
export function loadChdb(): ChdbModule {
  const dir = chdbDir();
  const pinned = pinnedChdbVersion();
  const install = `run \`npm run chdb:install\` (chdb@${pinned} from the npm registry into .local/chdb, about 180 MB; .ci/run does)`;
  if (!existsSync(path.join(dir, 'package.json'))) {
    throw new Error(
      `chDB, the modern ClickHouse engine the schema and queries are compared on, is not installed: ${install}`,
    );
  }
  const installed = (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  if (installed !== pinned)
    throw new Error(`.local/chdb holds chdb ${installed}, not the pinned ${pinned}: ${install}`);
  try {
    return createRequire(import.meta.url)(dir) as ChdbModule;
  } catch (error) {
    throw new Error(`chDB (.local/chdb) does not load on this machine: ${errorText(error)}; ${install}`, {
      cause: error,
    });
  }
}

/**
 * A chDB session (fresh temporary data directory) working in `database`, created here.
 * Settings are applied with SET before each statement (a session keeps them), since a
 * SETTINGS clause would mean table settings on a CREATE TABLE. Statements run one at a time.
 */
export async function chdbEngine(database: string, timezone: string): Promise<Engine> {
  const session = new (loadChdb().Session)();
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = queue.then(work, work);
    queue = next.catch(() => undefined);
    return next;
  };
  const exec = (sql: string, format = 'TabSeparated') => session.queryAsync(sql, { format });
  try {
    // The server's zone, so that both engines write DateTime text alike (18.16 has no session_timezone).
    await exec(`SET session_timezone = '${timezone.replace(/'/g, '')}'`);
    // Like 18.16, which has no such step: rows of one insert that share a key are kept as
    // they are, not collapsed on the way in, so both engines hold the same unmerged rows.
    await exec('SET optimize_on_insert = 0');
    await exec(`CREATE DATABASE ${database}`);
    await exec(`USE ${database}`);
  } catch (error) {
    session.close();
    throw error;
  }
  const version = (await exec('SELECT version()')).text().trim();
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'chdb-rows-'));
  let files = 0;
  return {
    name: `chDB ${version} (in-process)`,
    run: (sql, format, settings = {}) =>
      serial(async () => {
        try {
          for (const [name, value] of Object.entries(settings)) {
            await exec(`SET ${name} = ${typeof value === 'number' ? value : `'${value.replace(/'/g, '')}'`}`);
          }
          const result = await exec(sql, format === 'none' ? 'TabSeparated' : format);
          return { ok: true, text: format === 'none' ? '' : result.text() };
        } catch (error) {
          return { ok: false, error: errorText(error) };
        }
      }),
    insert: (table, rows) =>
      serial(async () => {
        try {
          await session.insert({ table, values: rows.map(rowJson).join('\n'), format: 'JSONEachRow' });
          return { ok: true, text: '' };
        } catch (error) {
          return { ok: false, error: errorText(error) };
        }
      }),
    // chDB's insert takes text: the same bytes go through a file, read by the input table's own column types.
    insertRows: (table, values) =>
      serial(async () => {
        const binary = binaryInsert(table, values);
        const file = path.join(scratch, `rows-${++files}.bin`);
        try {
          if (binary === undefined) {
            await session.insert({
              table: inputTable(table),
              values: (values as readonly object[]).map(rowJson).join('\n'),
              format: 'JSONEachRow',
            });
            return { ok: true, text: '' };
          }
          writeFileSync(file, binary.body);
          const columns = (
            await exec(
              `SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = '${inputTable(table)}' ORDER BY position`,
            )
          )
            .text()
            .trim()
            .split('\n')
            .map((line) => line.replace('\t', ' '))
            .join(', ');
          await exec(
            `INSERT INTO ${inputTable(table)} (${binary.columns}) ` +
              `SELECT ${binary.columns} FROM file('${file}', 'RowBinary', '${columns}')`,
          );
          return { ok: true, text: '' };
        } catch (error) {
          return { ok: false, error: errorText(error) };
        } finally {
          rmSync(file, { force: true });
        }
      }),
    close: async () => {
      await queue;
      session.close();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
