/**
 * Simulator throughput: runs `npm run sim` in its own process at a target rate and reads
 * the combined stream with one client until it has counted the wanted frames. Prints
 * frames/s as received, and the simulator's own rate.
 *
 *   npx tsx --conditions=source binance-sim/bench/throughput.ts [--rate 100000] [--frames 100000] [--symbols 3]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { generatedSymbols } from '../src/symbol-profile.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '100000' },
    frames: { type: 'string', default: '100000' },
    symbols: { type: 'string', default: '3' },
  },
});
const rate = Number(values.rate);
const wanted = Number(values.frames);
const symbols = generatedSymbols(Number(values.symbols));

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'main.ts');
const child = spawn(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    main,
    '--port',
    '0',
    '--rate',
    String(rate),
    '--symbols',
    symbols.join(','),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const wsUrl = await new Promise<string>((resolve, reject) => {
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    const match = /BINANCE_WS_URL=(\S+)/.exec(output);
    if (match?.[1]) resolve(match[1]);
  });
  child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
});

const streams = symbols.flatMap((s) => [`${s.toLowerCase()}@trade`, `${s.toLowerCase()}@depth@100ms`]);
const socket = new WebSocket(`${wsUrl}/stream?streams=${streams.join('/')}`);
const warmup = Math.min(10_000, Math.round(wanted / 10));
let received = 0;
let started = 0;
let bytes = 0;
const result = await new Promise<{ seconds: number; frames: number; bytes: number }>((resolve) => {
  socket.on('message', (data: Buffer) => {
    received++;
    if (received === warmup) started = performance.now();
    if (received > warmup) bytes += data.length;
    if (received === warmup + wanted) resolve({ seconds: (performance.now() - started) / 1000, frames: wanted, bytes });
  });
});
socket.terminate();
child.kill('SIGTERM');

const perSecond = Math.round(result.frames / result.seconds);
console.log(
  `binance-sim throughput: ${result.frames} frames in ${result.seconds.toFixed(2)} s = ${perSecond} frames/s ` +
    `(${(result.bytes / result.seconds / 1e6).toFixed(1)} MB/s; target rate ${rate}/s, ${symbols.length} symbols)`,
);
