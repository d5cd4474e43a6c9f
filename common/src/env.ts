import { existsSync } from 'node:fs';
import path from 'node:path';
import { config as loadDotenv } from 'dotenv';
import { z } from 'zod';

/** A configuration problem, worded for the person who set the variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Variables shared by more than one service, with the defaults from `.env.example`. */
export const commonEnv = {
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .transform((s) => s.split(',').map((b) => b.trim()))
    .pipe(z.array(z.string().regex(/^[A-Za-z0-9.\-_]+:\d{1,5}$/, 'expected host:port[,host:port...]')).min(1)),
  TOPIC_TRADES: z.string().min(1).default('binance.trades'),
  TOPIC_DEPTH: z.string().min(1).default('binance.depth'),
  TOPIC_DLQ: z.string().min(1).default('binance.dlq'),
  CLICKHOUSE_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8123'),
  CLICKHOUSE_DB: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a plain identifier')
    .default('market'),
  CLICKHOUSE_USER: z.string().default('default'),
  CLICKHOUSE_PASSWORD: z.string().default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
} as const;

/** A TCP port number given as a string. */
export const portSchema = z.coerce.number().int().min(1).max(65535);

/** A positive integer given as a string. */
export const positiveInt = z.coerce.number().int().positive();

/**
 * Parses `env` against `shape`. Throws a ConfigError whose message names every bad
 * variable, its value, and what was expected.
 */
export function parseEnv<S extends z.ZodRawShape>(
  shape: S,
  env: Record<string, string | undefined>,
): z.infer<z.ZodObject<S>> {
  // An empty variable means "use the default", as in most .env files.
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const value = env[key];
    if (value !== undefined && value.trim() !== '') cleaned[key] = value.trim();
  }
  const result = z.object(shape).safeParse(cleaned);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = String(issue.path[0] ?? '?');
    return `${name}=${JSON.stringify(cleaned[name] ?? '')}: ${issue.message}`;
  });
  throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
}

/** Walks up from `start` to the folder holding the workspace root's package-lock.json. */
export function findProjectRoot(start = process.cwd()): string {
  let dir = path.resolve(start);
  for (;;) {
    if (existsSync(path.join(dir, 'package-lock.json'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve(start);
    dir = parent;
  }
}

/**
 * Loads `.env` from the project root (values already in the environment win), then
 * validates. Services call this once at start.
 */
export function loadEnv<S extends z.ZodRawShape>(shape: S): z.infer<z.ZodObject<S>> {
  const file = path.join(findProjectRoot(), '.env');
  if (existsSync(file)) loadDotenv({ path: file, quiet: true });
  return parseEnv(shape, process.env);
}
