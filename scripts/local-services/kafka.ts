import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import {
  ServiceError,
  commandExists,
  isLoopback,
  isPortOpen,
  runningPid,
  spawnDetached,
  stopPid,
  tail,
  waitFor,
} from './processes.js';
import type { LocalService, ServiceState } from './service.js';

/** Asks the broker for its cluster metadata: true only if a Kafka broker answers. */
export async function kafkaAnswers(brokers: string[], timeoutMs = 3000): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'candleflow-services',
    brokers,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function javaMajorVersion(): number | undefined {
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${out.stderr}${out.stdout}`);
  if (!match) return undefined;
  const major = Number(match[1]);
  return major === 1 ? Number(match[2]) : major;
}

/**
 * A single-node KRaft broker on loopback. `stateDir` (default `<root>/.local/kafka`) holds
 * its config, data and logs, so tests can run a private broker beside the shared one.
 */
export function localKafka(
  root: string,
  brokers: string[],
  options: { stateDir?: string; controllerPort?: number } = {},
): LocalService {
  const dir = options.stateDir ?? path.join(root, '.local', 'kafka');
  const pidFile = path.join(dir, 'kafka.pid');
  const logFile = path.join(dir, 'kafka.log');
  const brokersEnv = brokers.join(',');
  const [host = '127.0.0.1', portText = '9092'] = (brokers[0] ?? '').split(':');
  const port = Number(portText);
  const controllerPort = options.controllerPort ?? Number(process.env.KAFKA_CONTROLLER_PORT ?? port + 1);
  const kafkaRun = path.join(root, 'scripts', 'kafka', 'kafka-run');

  async function state(): Promise<ServiceState> {
    const pid = runningPid(pidFile);
    if (pid !== undefined) return { kind: 'ours', pid, endpoint: brokersEnv };
    if (await kafkaAnswers(brokers, 1500)) return { kind: 'external', endpoint: brokersEnv };
    return { kind: 'stopped', endpoint: brokersEnv };
  }

  function runTool(args: string[]): string {
    const out = spawnSync(kafkaRun, args, { encoding: 'utf8' });
    if (out.status !== 0) {
      const message = out.stderr.split('\n').find((l) => l.startsWith('error:'));
      throw new ServiceError(message?.replace(/^error: /, '') ?? `kafka tool failed: ${out.stderr.trim()}`);
    }
    return out.stdout.trim();
  }

  async function start(): Promise<number> {
    if (!isLoopback(host)) {
      throw new ServiceError(
        `KAFKA_BROKERS=${brokersEnv} is not reachable, and only a loopback broker can be started here`,
      );
    }
    for (const p of [port, controllerPort]) {
      if (await isPortOpen(host, p)) {
        throw new ServiceError(
          `port ${p} on ${host} is taken by a program that is not Kafka; stop it, or set KAFKA_BROKERS (and KAFKA_CONTROLLER_PORT) to free ports`,
        );
      }
    }
    if (!commandExists('java')) {
      throw new ServiceError(
        'java not found; Kafka needs Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)',
      );
    }
    const java = javaMajorVersion();
    if (java !== undefined && java < 17) {
      throw new ServiceError(
        `Java ${java} found; Kafka here needs Java 17 or newer (Debian: apt-get install openjdk-17-jre-headless)`,
      );
    }
    mkdirSync(dir, { recursive: true });
    const dataDir = path.join(dir, 'data');
    const props = path.join(dir, 'server.properties');
    writeFileSync(
      props,
      [
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@${host}:${controllerPort}`,
        `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
        `advertised.listeners=PLAINTEXT://${host}:${port}`,
        'controller.listener.names=CONTROLLER',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        `log.dirs=${dataDir}`,
        'num.partitions=6',
        'offsets.topic.replication.factor=1',
        'offsets.topic.num.partitions=6',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        'group.initial.rebalance.delay.ms=0',
        'auto.create.topics.enable=true',
        'log.retention.hours=24',
        '',
      ].join('\n'),
    );
    const log4j = path.join(dir, 'log4j.properties');
    writeFileSync(
      log4j,
      [
        'log4j.rootLogger=INFO, file',
        'log4j.logger.kafka.request.logger=WARN',
        'log4j.logger.state.change.logger=WARN',
        'log4j.appender.file=org.apache.log4j.FileAppender',
        `log4j.appender.file.File=${path.join(dir, 'server.log')}`,
        'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
        '',
      ].join('\n'),
    );
    if (!existsSync(path.join(dataDir, 'meta.properties'))) {
      const clusterId = runTool(['kafka.tools.StorageTool', 'random-uuid']);
      runTool(['kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props]);
    }
    const pid = spawnDetached(kafkaRun, ['kafka.Kafka', props], logFile, pidFile, {
      ...process.env,
      KAFKA_HEAP_OPTS: process.env.KAFKA_HEAP_OPTS ?? '-Xmx768m -Xms256m',
      KAFKA_LOG4J: log4j,
    });
    await waitFor(`Kafka on ${brokersEnv}`, () => kafkaAnswers(brokers, 1000), {
      timeoutMs: 90_000,
      intervalMs: 500,
      abortIf: () =>
        runningPid(pidFile) === undefined
          ? `Kafka exited during start; last lines of ${path.relative(root, logFile)}:\n${tail(logFile)}\n${tail(path.join(dir, 'server.log'))}`
          : undefined,
    });
    return pid;
  }

  async function stop(): Promise<void> {
    const pid = runningPid(pidFile);
    if (pid !== undefined) await stopPid(pid, 30_000);
  }

  return { name: 'kafka', state, start, stop };
}
