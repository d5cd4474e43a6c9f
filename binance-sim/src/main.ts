/**
 * `npm run sim -- ...`: a Binance-compatible WebSocket + REST server on one port, backed
 * by a synthetic market or a recorded session. Prints the URLs to point the producer at,
 * then a status line every few seconds.
 */
import { CliError, USAGE, parseCliOptions } from './cli-options.js';
import { startSimulator } from './simulator.js';

const STATUS_EVERY_MS = 5_000;

async function main(): Promise<void> {
  const options = parseCliOptions(process.argv.slice(2));
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const sim = await startSimulator(options);
  const source =
    options.source.kind === 'synthetic'
      ? `synthetic ${options.source.symbols.length} symbol(s) (${options.source.symbols.slice(0, 5).join(',')}${options.source.symbols.length > 5 ? ',...' : ''}) at ${options.source.rate} frames/s`
      : `replay ${options.source.file} at speed ${options.source.speed}${options.source.loop ? ', looping' : ''}`;
  console.log(`sim: ${source}; set BINANCE_WS_URL=${sim.wsUrl} BINANCE_REST_URL=${sim.restUrl}`);

  let last = { frames: 0, at: Date.now() };
  const status = setInterval(() => {
    const s = sim.stats();
    const frames = s.trades + s.depth;
    const now = Date.now();
    const perSecond = Math.round(((frames - last.frames) * 1000) / Math.max(1, now - last.at));
    last = { frames, at: now };
    console.log(
      `sim: ${frames} frames sent (${s.trades} trades, ${s.depth} depth; ${perSecond}/s), ${s.connections} client(s), ${s.snapshots} snapshot(s)`,
    );
  }, STATUS_EVERY_MS);

  const stop = (): void => {
    clearInterval(status);
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof CliError) {
    console.error(`sim: ${error.message} (npm run sim -- --help)`);
    process.exit(2);
  }
  console.error(`sim: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
