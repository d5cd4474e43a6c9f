/**
 * The bench's simulator process: the project's synthetic Binance market on an ephemeral
 * port, reporting its URLs and frame counters to the bench over IPC. Exits when told to
 * stop or when the bench goes away.
 */
import { startSimulator } from '@candleflow/binance-sim/simulator';
import { BENCH_REST_WEIGHT_PER_MINUTE, simCommandSchema, simSettingsSchema, type SimReport } from './sim-messages.js';

const settings = simSettingsSchema.parse(JSON.parse(process.env.BENCH_SIM ?? 'null'));
const sim = await startSimulator({
  source: { kind: 'synthetic', symbols: settings.symbols, rate: settings.rate, seed: settings.seed },
  weightPerMinute: BENCH_REST_WEIGHT_PER_MINUTE,
});
const report = (message: SimReport, then: () => void = () => undefined): void => {
  if (process.send) process.send(message, then);
  else then();
};
const stats = (): SimReport => ({ type: 'stats', atMs: Date.now(), ...sim.stats() });

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  // The final counts, once nothing more is sent: what the bench compares with the topics.
  void sim.close().then(() => {
    if (process.connected) report(stats(), () => process.exit(0));
    else process.exit(0);
  });
};
process.on('message', (raw) => {
  const command = simCommandSchema.safeParse(raw);
  if (!command.success) {
    console.error(`sim-process: ignoring unknown command ${JSON.stringify(raw)}`);
    return;
  }
  if (command.data.type === 'stop') stop();
  else report(stats());
});
process.on('disconnect', stop);
process.on('SIGTERM', stop);
report({ type: 'ready', wsUrl: sim.wsUrl, restUrl: sim.restUrl });
console.log(`sim-process: ${settings.symbols.length} symbols at ${settings.rate} frames/s on ${sim.wsUrl}`);
