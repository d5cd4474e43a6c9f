import { TICKS_PER_SECOND, readProcess, readThreadTicks } from './proc-stats.js';

/** A group of a process's threads, by thread name, whose CPU is reported on its own. */
export interface ThreadGroup {
  name: string;
  pid: number;
  threadNames: (threadName: string) => boolean;
}

export interface CpuUsage {
  /** 100 = one core busy for the whole interval. */
  cpuPercent: number;
  cpuSeconds: number;
}

export interface ProcessUsage extends CpuUsage {
  maxRssBytes: number;
  lastRssBytes: number;
}

interface Mark {
  atMs: number;
  ticks: Map<string, number>;
}

/**
 * Samples CPU ticks and RSS of named processes (and CPU of thread groups) from /proc.
 * `mark()` remembers a point in time; `usageSince(mark)` gives each process's CPU since
 * then and its largest RSS among the samples taken since.
 */
export class ProcessMeter {
  private readonly processes = new Map<string, number>();
  private readonly groups: ThreadGroup[] = [];
  private readonly rss = new Map<string, { max: number; last: number }>();

  track(name: string, pid: number): void {
    this.processes.set(name, pid);
    this.rss.delete(name);
  }

  untrack(name: string): void {
    this.processes.delete(name);
  }

  trackThreads(group: ThreadGroup): void {
    this.groups.push(group);
  }

  /** Takes a sample: current ticks per name, and RSS into the running maxima. */
  mark(nowMs = Date.now()): Mark {
    const ticks = new Map<string, number>();
    for (const [name, pid] of this.processes) {
      const sample = readProcess(pid);
      if (!sample) continue;
      ticks.set(name, sample.cpuTicks);
      const rss = this.rss.get(name);
      this.rss.set(name, { max: Math.max(rss?.max ?? 0, sample.rssBytes), last: sample.rssBytes });
    }
    const byPid = new Map<number, Map<string, number>>();
    for (const group of this.groups) {
      let threads = byPid.get(group.pid);
      if (!threads) {
        threads = readThreadTicks(group.pid);
        byPid.set(group.pid, threads);
      }
      let sum = 0;
      for (const [threadName, t] of threads) if (group.threadNames(threadName)) sum += t;
      ticks.set(group.name, sum);
    }
    return { atMs: nowMs, ticks };
  }

  /** Forgets the RSS maxima, so that the next usage reports cover a new stretch. */
  resetRss(): void {
    this.rss.clear();
  }

  /** CPU per process and thread group between two marks; RSS maxima since the last reset. */
  usage(from: Mark, to: Mark): Record<string, ProcessUsage> {
    const seconds = Math.max(0.001, (to.atMs - from.atMs) / 1000);
    const out: Record<string, ProcessUsage> = {};
    for (const [name, endTicks] of to.ticks) {
      const startTicks = from.ticks.get(name);
      if (startTicks === undefined) continue;
      const cpuSeconds = Math.max(0, endTicks - startTicks) / TICKS_PER_SECOND;
      const rss = this.rss.get(name);
      out[name] = {
        cpuSeconds,
        cpuPercent: (cpuSeconds / seconds) * 100,
        maxRssBytes: rss?.max ?? 0,
        lastRssBytes: rss?.last ?? 0,
      };
    }
    return out;
  }
}
