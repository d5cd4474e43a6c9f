import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import { findProjectRoot } from './env.js';

export interface Migration {
  version: number;
  name: string;
  statements: string[];
}

/** The project's `clickhouse/migrations` folder. */
export function defaultMigrationsDir(): string {
  return path.join(findProjectRoot(), 'clickhouse', 'migrations');
}

/** Splits a migration file into statements, dropping `--` comments. */
export function parseMigrationSql(sql: string): string[] {
  return sql
    .split('\n')
    .map((line) => line.replace(/--.*$/, ''))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** `NNNN_name.sql` files, in version order. */
export function readMigrations(dir = defaultMigrationsDir()): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const [, version = '0', name = ''] = /^(\d+)_([\w-]+)\.sql$/.exec(file) ?? [];
      return {
        version: Number(version),
        name,
        statements: parseMigrationSql(readFileSync(path.join(dir, file), 'utf8')),
      };
    });
}

/**
 * Whether `statement` adds a column that is already there: applied by a concurrent start or
 * by Docker's init. 18.16 has no `ADD COLUMN IF NOT EXISTS`; its error (code 44, modern
 * servers 15) says so in the same words.
 */
export function isColumnAddedBefore(statement: string, error: unknown): boolean {
  return (
    /^ALTER TABLE \S+ ADD COLUMN /i.test(statement) &&
    error instanceof Error &&
    /column with this name already exists/i.test(error.message)
  );
}

/** The runner's own table: which migrations a database has seen. */
export const schemaMigrationsTableSql =
  'CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at DateTime) ENGINE = TinyLog';

/** What the runner reads first: the versions applied before. */
export const appliedVersionsSql = 'SELECT version FROM schema_migrations';

export interface ClickhouseTarget {
  url: string;
  username?: string;
  password?: string;
  database: string;
}

/**
 * Creates the database if needed and applies the migrations it has not seen yet,
 * recording each in `schema_migrations`. Safe when several processes start at once:
 * every statement is idempotent (`IF NOT EXISTS`, or a column added before: isColumnAddedBefore). Returns the versions applied.
 */
export async function migrate(target: ClickhouseTarget, migrations = readMigrations()): Promise<number[]> {
  const { database } = target;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(database)) throw new Error(`invalid database name ${JSON.stringify(database)}`);
  // Failures reach the caller, which logs them once with its retry: the client stays quiet.
  const auth = {
    url: target.url,
    username: target.username ?? 'default',
    password: target.password ?? '',
    log: { level: ClickHouseLogLevel.OFF },
  };
  const server = createClient(auth);
  try {
    await server.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
  } finally {
    await server.close();
  }
  const client = createClient({ ...auth, database });
  try {
    await client.command({ query: schemaMigrationsTableSql });
    const rows = await (
      await client.query({ query: appliedVersionsSql, format: 'JSONEachRow' })
    ).json<{
      version: number;
    }>();
    const done = new Set(rows.map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      for (const statement of migration.statements) {
        try {
          await client.command({ query: statement });
        } catch (error) {
          if (!isColumnAddedBefore(statement, error)) throw error;
        }
      }
      await client.insert({
        table: 'schema_migrations',
        format: 'JSONEachRow',
        values: [{ version: migration.version, name: migration.name, applied_at: Math.floor(Date.now() / 1000) }],
      });
      applied.push(migration.version);
    }
    return applied;
  } finally {
    await client.close();
  }
}
