/**
 * `npm run services:up|services:down|services:status`: local Kafka (KRaft, Maven
 * Central jars) and ClickHouse (the newest installed, else Debian's package) on loopback,
 * data under `.local/`.
 */
import { commonEnv, findProjectRoot, loadEnv } from '@candleflow/common/env';
import { ServiceError, detail, localServices, servicesDown, servicesUp } from './local-services/index.js';

const command = process.argv[2];
const log = (line: string): void => console.log(`services: ${line}`);

try {
  const env = loadEnv({ KAFKA_BROKERS: commonEnv.KAFKA_BROKERS, CLICKHOUSE_URL: commonEnv.CLICKHOUSE_URL });
  const services = localServices(findProjectRoot(), env);
  if (command === 'up') {
    await servicesUp(services, log);
    log(`ready: KAFKA_BROKERS=${env.KAFKA_BROKERS.join(',')} CLICKHOUSE_URL=${env.CLICKHOUSE_URL}`);
  } else if (command === 'down') {
    await servicesDown(services, log);
  } else if (command === 'status') {
    for (const service of services) {
      const state = await service.state();
      const what =
        state.kind === 'ours'
          ? `running (pid ${state.pid})`
          : state.kind === 'external'
            ? 'external (not managed here)'
            : 'stopped';
      log(`${service.name}: ${what} at ${state.endpoint}${await detail(service, state)}`);
    }
  } else {
    throw new ServiceError(`unknown command ${JSON.stringify(command)}; use up, down or status`);
  }
} catch (error) {
  console.error(`services: error: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
