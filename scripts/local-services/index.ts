import { localClickhouse } from './clickhouse.js';
import { localKafka } from './kafka.js';
import type { LocalService, ServiceState } from './service.js';

export { ServiceError } from './processes.js';
export type { LocalService } from './service.js';

/** ", ClickHouse 24.8.14.39" after a log line, for a service that says what it runs. */
export async function detail(service: LocalService, state: ServiceState): Promise<string> {
  const text = await service.describe?.(state);
  return text === undefined ? '' : `, ${text}`;
}

/** Kafka and ClickHouse at the validated addresses (see commonEnv for defaults). */
export function localServices(root: string, env: { KAFKA_BROKERS: string[]; CLICKHOUSE_URL: string }): LocalService[] {
  return [localKafka(root, env.KAFKA_BROKERS), localClickhouse(root, env.CLICKHOUSE_URL)];
}

/**
 * Starts whatever is not already answering. Servers that answer and were not started
 * here are used as they are. Returns the services this call started; if one fails, the
 * others this call started are stopped again, so a failed start leaves nothing behind.
 */
export async function servicesUp(services: LocalService[], log: (line: string) => void): Promise<LocalService[]> {
  const started: LocalService[] = [];
  // Kafka and ClickHouse start in parallel: together they take as long as the slower one.
  const results = await Promise.allSettled(
    services.map(async (service) => {
      const state = await service.state();
      if (state.kind === 'ours') {
        await service.update?.();
        log(`${service.name}: already running (pid ${state.pid}) at ${state.endpoint}${await detail(service, state)}`);
      } else if (state.kind === 'external') {
        log(
          `${service.name}: using the server already at ${state.endpoint} (not managed here)${await detail(service, state)}`,
        );
      } else {
        log(`${service.name}: starting at ${state.endpoint}...`);
        const t0 = Date.now();
        const pid = await service.start();
        started.push(service);
        const seconds = ((Date.now() - t0) / 1000).toFixed(1);
        const running = await detail(service, { kind: 'ours', pid, endpoint: state.endpoint });
        log(`${service.name}: up (pid ${pid}) at ${state.endpoint} in ${seconds}s${running}`);
      }
    }),
  );
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await servicesDown(started, log);
    throw failure.reason;
  }
  return started;
}

export async function servicesDown(services: LocalService[], log: (line: string) => void): Promise<void> {
  await Promise.all(
    services.map(async (service) => {
      const state = await service.state();
      if (state.kind === 'ours') {
        await service.stop();
        log(`${service.name}: stopped`);
      } else if (state.kind === 'external') {
        log(`${service.name}: left running at ${state.endpoint} (not started by this project)`);
      } else {
        log(`${service.name}: not running`);
      }
    }),
  );
}
