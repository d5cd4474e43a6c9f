import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Machine } from './results.js';

function cpuModel(): string {
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) return match[1].trim();
  } catch {
    // Not Linux: fall back to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

/** The Kafka version the local broker runs, as the project pins it. */
function kafkaVersion(root: string): string {
  try {
    const pom = readFileSync(path.join(root, 'scripts', 'kafka', 'pom.xml'), 'utf8');
    return /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What the figures were measured on. */
export async function describeMachine(root: string, clickhouse: ClickHouseClient): Promise<Machine> {
  let clickhouseVersion = 'unknown';
  try {
    const [row] = await (
      await clickhouse.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })
    ).json<{
      v: string;
    }>();
    clickhouseVersion = row?.v ?? 'unknown';
  } catch {
    // Reported as unknown; the steps will fail with the real reason.
  }
  const [l1 = 0, l5 = 0, l15 = 0] = os.loadavg();
  return {
    cpus: os.availableParallelism(),
    cpuModel: cpuModel(),
    memoryBytes: os.totalmem(),
    loadAverage: [l1, l5, l15].map((l) => Math.round(l * 100) / 100) as [number, number, number],
    node: process.version,
    clickhouse: clickhouseVersion,
    kafka: kafkaVersion(root),
  };
}
