import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { StepPlan } from './results.js';

export const USAGE = `usage: npm run bench -- [--quick] [--steps 1k,5k,10k,20k,50k,100k] [--symbols N] [--duration S]
                      [--warmup S] [--compression none|gzip|lz4|snappy|zstd]
                      [--peers kafka-engine,kafka-engine-windows-only,naive,spark|none]
                      [--catchup-seconds S] [--seed N] [--out DIR]
                      [--profile sim,producer,aggregator] [--env KEY=VALUE ...]
       npm run bench -- --producer-only [--steps 50k,100k] [--symbols N] [--duration S] [--warmup S]
                      [--compression ...] [--seed N] [--out DIR] [--profile sim,producer] [--env KEY=VALUE ...]
       npm run bench -- --micro [--quick]

Each step runs the simulator at the given rate (frames/s, trades and depth diffs together)
through producer -> Kafka -> aggregator -> ClickHouse on fresh topics and database, with
ClickHouse's Kafka engine reading the same trades topic live; then the project, the Kafka
engine (kafka-engine: raw trades and windows, as the project writes; kafka-engine-windows-only:
windows alone, the earlier peer) and a naive one-INSERT-per-message consumer each read the
stored trades topic alone (catch-up, up to --catchup-seconds each); spark (not by default:
install it first with bash bench/spark/install.sh) runs the original Spark design there too. Defaults: 6 steps of 60 s, 20 s catch-up;
--quick: 2 steps (1k, 10k) of 15 s, 8 s catch-up. The first --warmup seconds of each step
(default a third of it, at most 10) are left out of the rates, CPU and latencies.
--profile runs those processes under node --cpu-prof and summarises where their time went;
--env passes a setting to the producer and the aggregator (e.g. --env WINDOW_EMIT_MS=250).
--producer-only runs simulator -> producer -> Kafka alone at each step's rate (no aggregator,
no ClickHouse): input and Kafka rates, trades dropped and lost, the producer's CPU and RSS,
and whether the rate into Kafka held at its ceiling under overload.`;

/** A command-line mistake; the message names the flag. */
export class CliError extends Error {
  override name = 'CliError';
}

export const PEERS = ['kafka-engine', 'kafka-engine-windows-only', 'naive', 'spark'] as const;
export type Peer = (typeof PEERS)[number];
/** Spark is installed on demand (bench/spark/install.sh): it runs only when named. */
const DEFAULT_PEERS: readonly Peer[] = ['kafka-engine', 'kafka-engine-windows-only', 'naive'];
export type ProfiledProcess = 'sim' | 'producer' | 'aggregator';

export interface MacroOptions {
  kind: 'macro';
  /** simulator -> producer -> Kafka only, no consumers. */
  producerOnly: boolean;
  steps: StepPlan[];
  warmupS: number;
  compression: 'none' | 'gzip' | 'lz4' | 'snappy' | 'zstd';
  peers: Peer[];
  catchUpSeconds: number;
  seed: number;
  outDir: string;
  profile: ProfiledProcess[];
  /** Extra environment for the producer and the aggregator. */
  serviceEnv: Record<string, string>;
}

export interface MicroOptions {
  kind: 'micro';
  quick: boolean;
}

export type BenchOptions = MacroOptions | MicroOptions | { kind: 'help' };

const DEFAULT_RATES = [1_000, 5_000, 10_000, 20_000, 50_000, 100_000];
const QUICK_RATES = [1_000, 10_000];

/** Symbols for a rate when not given: more symbols for busier markets, as on Binance. */
export function defaultSymbols(rate: number): number {
  if (rate <= 1_000) return 50;
  if (rate <= 5_000) return 100;
  if (rate <= 20_000) return 200;
  return 400;
}

const rateText = /^(\d+(?:\.\d+)?)(k?)$/i;

function parseRate(text: string): number {
  const match = rateText.exec(text.trim());
  if (!match) throw new CliError(`--steps: expected rates like 1k,5k,20000, got ${JSON.stringify(text)}`);
  const rate = Math.round(Number(match[1]) * (match[2] ? 1000 : 1));
  if (rate < 10) throw new CliError(`--steps: a rate must be at least 10 frames/s, got ${JSON.stringify(text)}`);
  return rate;
}

function parseWith<T>(flag: string, schema: z.ZodType<T>, value: string | undefined, fallback: T, expected: string): T {
  if (value === undefined) return fallback;
  const result = schema.safeParse(value);
  if (!result.success) throw new CliError(`--${flag}: expected ${expected}, got ${JSON.stringify(value)}`);
  return result.data;
}

const positive = z.coerce.number().int().positive();

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        micro: { type: 'boolean' },
        'producer-only': { type: 'boolean' },
        quick: { type: 'boolean' },
        steps: { type: 'string' },
        symbols: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        compression: { type: 'string' },
        peers: { type: 'string' },
        'catchup-seconds': { type: 'string' },
        seed: { type: 'string' },
        out: { type: 'string' },
        profile: { type: 'string' },
        env: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { kind: 'help' };
  const quick = values.quick ?? false;
  if (values.micro) {
    const macroOnly = Object.keys(values).filter((k) => !['micro', 'quick'].includes(k));
    if (macroOnly.length > 0) throw new CliError(`--${macroOnly[0]} does not apply to --micro`);
    return { kind: 'micro', quick };
  }
  const producerOnly = values['producer-only'] ?? false;
  if (producerOnly) {
    const consumerOnly = ['peers', 'catchup-seconds'].find((k) => k in values);
    if (consumerOnly) throw new CliError(`--${consumerOnly} does not apply to --producer-only`);
  }
  const rates =
    values.steps === undefined ? (quick ? QUICK_RATES : DEFAULT_RATES) : values.steps.split(',').map(parseRate);
  const symbols = parseWith('symbols', positive.max(1000), values.symbols, undefined, 'a symbol count 1..1000');
  const durationS = parseWith('duration', positive.min(10), values.duration, quick ? 15 : 60, 'seconds, at least 10');
  // Start-up (snapshots of every book, JIT, group joins) settles within ~10 s at the highest rates.
  const warmupS = parseWith(
    'warmup',
    z.coerce.number().int().min(0),
    values.warmup,
    Math.min(10, Math.floor(durationS / 3)),
    'seconds',
  );
  if (warmupS >= durationS)
    throw new CliError(`--warmup: ${warmupS} s leaves nothing of a ${durationS} s step to measure`);
  const steps = rates.map((rate) => {
    const count = symbols ?? Math.min(defaultSymbols(rate), Math.floor(rate / 10));
    if (rate < 10 * count) {
      throw new CliError(
        `--symbols: ${count} symbols need at least ${10 * count} frames/s (one depth diff each per 100 ms)`,
      );
    }
    return { rate, symbols: count, durationS };
  });
  const compression = parseWith(
    'compression',
    z.enum(['none', 'gzip', 'lz4', 'snappy', 'zstd']),
    values.compression,
    // The producer's own default: the stack as it ships.
    'lz4',
    'none, gzip, lz4, snappy or zstd',
  );
  let peers: Peer[] = producerOnly ? [] : [...DEFAULT_PEERS];
  if (values.peers !== undefined) {
    const list = values.peers === 'none' ? [] : values.peers.split(',').map((p) => p.trim());
    const parsed = z.array(z.enum(PEERS)).safeParse(list);
    if (!parsed.success) {
      throw new CliError(
        `--peers: expected ${PEERS.join(', ')} (comma-separated) or none, got ${JSON.stringify(values.peers)}`,
      );
    }
    peers = [...new Set(parsed.data)];
  }
  let profile: ProfiledProcess[] = [];
  if (values.profile !== undefined) {
    const parsed = z
      .array(z.enum(['sim', 'producer', 'aggregator']))
      .safeParse(values.profile.split(',').map((p) => p.trim()));
    if (!parsed.success) {
      throw new CliError(
        `--profile: expected sim, producer, aggregator (comma-separated), got ${JSON.stringify(values.profile)}`,
      );
    }
    profile = [...new Set(parsed.data)];
  }
  const serviceEnv: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(pair);
    if (!match?.[1]) throw new CliError(`--env: expected KEY=VALUE, got ${JSON.stringify(pair)}`);
    serviceEnv[match[1]] = match[2] ?? '';
  }
  return {
    kind: 'macro',
    producerOnly,
    steps,
    warmupS,
    compression,
    peers,
    catchUpSeconds: parseWith('catchup-seconds', positive, values['catchup-seconds'], quick ? 8 : 20, 'seconds'),
    seed: parseWith('seed', z.coerce.number().int(), values.seed, 1, 'an integer'),
    outDir: values.out ?? 'bench/results',
    profile,
    serviceEnv,
  };
}
