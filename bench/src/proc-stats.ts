import { readFileSync, readdirSync } from 'node:fs';

/** Linux reports CPU time in USER_HZ ticks, 100 a second on every mainstream kernel build. */
export const TICKS_PER_SECOND = 100;

/** user + system CPU ticks from the text of `/proc/<pid>/stat` (or a thread's `stat`). */
export function parseStatTicks(text: string): number {
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error(`not a /proc stat line: ${JSON.stringify(text.slice(0, 80))}`);
  const fields = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error('stat line without utime/stime');
  return utime + stime;
}

/** Resident set size in bytes from the text of `/proc/<pid>/status` (VmRSS). */
export function parseStatusRss(text: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(text);
  if (!match) throw new Error('status without VmRSS');
  return Number(match[1]) * 1024;
}

export interface ProcessSample {
  cpuTicks: number;
  rssBytes: number;
}

/** CPU ticks and RSS of a live process, or undefined if it is gone. */
export function readProcess(pid: number): ProcessSample | undefined {
  try {
    return {
      cpuTicks: parseStatTicks(readFileSync(`/proc/${pid}/stat`, 'utf8')),
      rssBytes: parseStatusRss(readFileSync(`/proc/${pid}/status`, 'utf8')),
    };
  } catch {
    return undefined;
  }
}

/**
 * CPU ticks of a process's threads summed per thread name (`comm`): how ClickHouse's
 * own Kafka consumer (its schedule-pool and librdkafka threads) is told apart from the
 * threads serving HTTP inserts and queries.
 */
export function readThreadTicks(pid: number): Map<string, number> {
  const totals = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return totals;
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const ticks = parseStatTicks(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      totals.set(name, (totals.get(name) ?? 0) + ticks);
    } catch {
      // The thread ended between listing and reading.
    }
  }
  return totals;
}
