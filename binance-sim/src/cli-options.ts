import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { SimulatorOptions } from './simulator.js';
import { generatedSymbols } from './symbol-profile.js';

export const DEFAULT_PORT = 9443;
export const DEFAULT_SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
/** Default frames per second for a few symbols: lively on a chart, light on a laptop. */
export const DEFAULT_RATE = 200;

export const USAGE = `usage: npm run sim -- [--synthetic] [--symbols BTCUSDT,ETHUSDT | --symbols 50] [--rate N] [--seed N]
                    [--replay FILE [--speed 1|10|max] [--loop]] [--port N] [--host H]
                    [--trade-retention N] [--weight-per-minute N]`;

/** A command-line mistake; the message names the flag. */
export class CliError extends Error {
  override name = 'CliError';
}

const portSchema = z.coerce.number().int().min(0).max(65535);
const positiveSchema = z.coerce.number().int().positive();
const symbolSchema = z.string().regex(/^[A-Z0-9]{2,20}$/);

function parseWith<T>(flag: string, schema: z.ZodType<T>, value: string, expected: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new CliError(`--${flag}: expected ${expected}, got ${JSON.stringify(value)}`);
  return result.data;
}

function parseSymbols(value: string | undefined): string[] {
  if (value === undefined) return DEFAULT_SYMBOLS;
  if (/^\d+$/.test(value)) return generatedSymbols(parseWith('symbols', positiveSchema.max(1000), value, '1..1000'));
  const symbols = value.split(',').map((s) => s.trim().toUpperCase());
  for (const s of symbols) parseWith('symbols', symbolSchema, s, 'symbols like BTCUSDT,ETHUSDT or a count');
  return [...new Set(symbols)];
}

/** Turns `npm run sim -- ...` arguments into simulator options. */
export function parseCliOptions(argv: readonly string[]): SimulatorOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        replay: { type: 'string' },
        speed: { type: 'string' },
        loop: { type: 'boolean' },
        synthetic: { type: 'boolean' },
        symbols: { type: 'string' },
        rate: { type: 'string' },
        seed: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'trade-retention': { type: 'string' },
        'weight-per-minute': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  const port = values.port === undefined ? DEFAULT_PORT : parseWith('port', portSchema, values.port, 'a port 0..65535');
  const host = values.host ?? '127.0.0.1';
  // Only flags given become options, so the simulator's defaults stay in one place.
  const limits: Pick<SimulatorOptions, 'tradeRetention' | 'weightPerMinute'> = {};
  const retention = values['trade-retention'];
  if (retention !== undefined) {
    limits.tradeRetention = parseWith(
      'trade-retention',
      positiveSchema,
      retention,
      'trades per symbol, a positive integer',
    );
  }
  const weight = values['weight-per-minute'];
  if (weight !== undefined) {
    limits.weightPerMinute = parseWith('weight-per-minute', positiveSchema, weight, 'a positive integer');
  }

  if (values.replay !== undefined) {
    for (const flag of ['synthetic', 'symbols', 'rate', 'seed'] as const) {
      if (values[flag] !== undefined) throw new CliError(`--${flag} cannot be combined with --replay`);
    }
    const speedText = values.speed ?? '1';
    if (!['1', '10', 'max'].includes(speedText)) {
      throw new CliError(`--speed: expected 1, 10 or max, got ${JSON.stringify(speedText)}`);
    }
    const speed = speedText === 'max' ? 'max' : speedText === '10' ? 10 : 1;
    return {
      host,
      port,
      ...limits,
      source: { kind: 'replay', file: values.replay, speed, loop: values.loop ?? false },
    };
  }
  for (const flag of ['speed', 'loop'] as const) {
    if (values[flag] !== undefined) throw new CliError(`--${flag} needs --replay FILE`);
  }
  const symbols = parseSymbols(values.symbols);
  const rate =
    values.rate === undefined
      ? Math.max(DEFAULT_RATE, 15 * symbols.length)
      : parseWith('rate', positiveSchema, values.rate, 'frames per second, a positive integer');
  const seed = values.seed === undefined ? 1 : parseWith('seed', z.coerce.number().int(), values.seed, 'an integer');
  return { host, port, ...limits, source: { kind: 'synthetic', symbols, rate, seed } };
}
