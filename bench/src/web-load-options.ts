import { parseArgs } from 'node:util';
import { z } from 'zod';
import { CliError } from './cli-options.js';

export const WEB_LOAD_USAGE = `       npm run bench -- --web-load [--clients N] [--duration S] [--symbols N] [--flooders N]
                      [--probes N] [--per-address N] [--range-readers N] [--no-browser]
                      [--env WEB_SETTING=VALUE ...] [--out DIR]

--web-load runs the web server (its own process) on fixture data in a fresh ClickHouse
database, all on 127.0.0.1, and holds --clients WebSocket clients (default 5,000, at most
20,000) subscribed to --symbols symbols, spread over 127.x.y.z source addresses
(--per-address each, under the server's WEB_WS_MAX_PER_IP); meanwhile --flooders clients
send subscribe messages as fast as they can, --range-readers loops read 6 h ranges from
ClickHouse, and headless Chromium shows the page. For --duration seconds (default 30, at
most 300) it measures clients held, the server's RSS and CPU, and the interval between
pushes seen by --probes ordinary clients and by the page; then it stops everything.`;

export interface WebLoadOptions {
  kind: 'web-load';
  clients: number;
  durationS: number;
  symbols: number;
  flooders: number;
  probes: number;
  perAddress: number;
  rangeReaders: number;
  browser: boolean;
  /** Extra environment for the web server. */
  serverEnv: Record<string, string>;
  outDir: string;
}

function bounded(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const parsed = z.coerce.number().int().min(min).max(max).safeParse(value);
  if (!parsed.success)
    throw new CliError(`--${flag}: expected an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return parsed.data;
}

/** Parses `npm run bench -- --web-load ...`; every count and duration is bounded. */
export function parseWebLoadOptions(argv: readonly string[]): WebLoadOptions | { kind: 'help' } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        'web-load': { type: 'boolean' },
        clients: { type: 'string' },
        duration: { type: 'string' },
        symbols: { type: 'string' },
        flooders: { type: 'string' },
        probes: { type: 'string' },
        'per-address': { type: 'string' },
        'range-readers': { type: 'string' },
        'no-browser': { type: 'boolean' },
        env: { type: 'string', multiple: true },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { kind: 'help' };
  const serverEnv: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const match = /^(WEB_[A-Z0-9_]+|WINDOW_SECONDS|LOG_LEVEL)=(.*)$/.exec(pair);
    if (!match?.[1]) throw new CliError(`--env: expected WEB_SETTING=VALUE, got ${JSON.stringify(pair)}`);
    serverEnv[match[1]] = match[2] ?? '';
  }
  return {
    kind: 'web-load',
    clients: bounded('clients', values.clients, 5000, 1, 20_000),
    durationS: bounded('duration', values.duration, 30, 5, 300),
    symbols: bounded('symbols', values.symbols, 3, 1, 20),
    flooders: bounded('flooders', values.flooders, 4, 0, 50),
    probes: bounded('probes', values.probes, 6, 1, 100),
    perAddress: bounded('per-address', values['per-address'], 40, 1, 1000),
    rangeReaders: bounded('range-readers', values['range-readers'], 2, 0, 32),
    browser: !(values['no-browser'] ?? false),
    serverEnv,
    outDir: values.out ?? 'bench/results',
  };
}
