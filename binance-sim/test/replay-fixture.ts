import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A small recording in the replay format: two symbols, each with two REST snapshots,
 * consecutive depth diffs, trades, aggTrades and bookTickers, 20 ms apart.
 */
export function recordingLines(): object[] {
  const lines: object[] = [];
  let ts = 1_633_998_000_000;
  const ids = { AAAUSDT: 1000, BBBUSDT: 5000 };
  let tradeId = 1;
  const snapshot = (symbol: keyof typeof ids): object => ({
    ts,
    rest: `/api/v3/depth?symbol=${symbol}&limit=1000`,
    body: {
      lastUpdateId: ids[symbol],
      bids: Array.from({ length: 30 }, (_, i) => [`${(100 - i).toFixed(8)}`, `${(ids[symbol] % 97) + 1}.00000000`]),
      asks: Array.from({ length: 30 }, (_, i) => [`${(101 + i).toFixed(8)}`, '2.50000000']),
    },
  });
  for (let step = 0; step < 40; step++) {
    for (const symbol of ['AAAUSDT', 'BBBUSDT'] as const) {
      const stream = symbol.toLowerCase();
      if (step === 0 || step === 20) lines.push(snapshot(symbol));
      const first = ids[symbol] + 1;
      ids[symbol] += 3;
      const E = ts + 5;
      lines.push({
        ts: (ts += 20),
        stream: `${stream}@depth@100ms`,
        data: {
          e: 'depthUpdate',
          E,
          s: symbol,
          U: first,
          u: ids[symbol],
          b: [['99.00000000', `${step}.10000000`]],
          a: [],
        },
      });
      const trade = { E, s: symbol, p: '100.50000000', q: '0.25000000', T: E, m: step % 2 === 0, M: true };
      lines.push({ ts, stream: `${stream}@trade`, data: { e: 'trade', t: tradeId, ...trade } });
      lines.push({
        ts,
        stream: `${stream}@aggTrade`,
        data: { e: 'aggTrade', a: tradeId, f: tradeId, l: tradeId, ...trade },
      });
      tradeId++;
      lines.push({
        ts,
        stream: `${stream}@bookTicker`,
        data: { u: ids[symbol], s: symbol, b: '100.00000000', B: '1.00000000', a: '101.00000000', A: '2.50000000' },
      });
    }
  }
  return lines;
}

/** Writes `lines` as NDJSON to a fresh temp dir; `cleanup` removes it. */
export function writeRecording(lines: (object | string)[]): { file: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'binance-sim-replay-'));
  const file = path.join(dir, 'session.ndjson');
  writeFileSync(file, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
  return { file, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
