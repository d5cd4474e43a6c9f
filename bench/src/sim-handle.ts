import { setTimeout as sleep } from 'node:timers/promises';
import { simReportSchema, type SimReport, type SimSettings } from './sim-messages.js';
import { ServiceProcess, type Exit } from './service-process.js';

export type SimStats = Extract<SimReport, { type: 'stats' }>;

/** The bench's side of a simulator process: its URLs, and its frame counters on request. */
export class SimHandle {
  readonly process: ServiceProcess;
  readonly ready: Promise<{ wsUrl: string; restUrl: string }>;
  private readonly pending: ((stats: SimStats) => void)[] = [];
  private last: SimStats | undefined;

  constructor(options: { cwd: string; logFile: string; settings: SimSettings; nodeArgs?: string[] }) {
    this.process = new ServiceProcess({
      name: 'sim',
      entry: 'bench/src/sim-process.ts',
      // One connection carries up to 512 symbols' streams in its URL (~20 kB), past Node's 16 kB default.
      nodeArgs: options.nodeArgs ?? [],
      cwd: options.cwd,
      logFile: options.logFile,
      env: { BENCH_SIM: JSON.stringify(options.settings) },
      ipc: true,
    });
    this.ready = new Promise((resolve, reject) => {
      this.process.onMessage((raw) => {
        const report = simReportSchema.safeParse(raw);
        if (!report.success) return;
        if (report.data.type === 'ready') resolve(report.data);
        else {
          this.last = report.data;
          this.pending.shift()?.(report.data);
        }
      });
      void this.process.exited.then(() => reject(new Error(`the simulator exited:\n${this.process.tail()}`)));
    });
  }

  /** The simulator's counters now; undefined once it has gone. */
  async stats(timeoutMs = 2000): Promise<SimStats | undefined> {
    let waiter: ((stats: SimStats) => void) | undefined;
    const answer = new Promise<SimStats>((resolve) => {
      waiter = resolve;
      this.pending.push(resolve);
    });
    this.process.send({ type: 'stats' });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
    try {
      return await Promise.race([answer, timeout]);
    } finally {
      clearTimeout(timer);
      // An unanswered request must not take the answer to the next one.
      const left = this.pending.indexOf(waiter as (stats: SimStats) => void);
      if (left >= 0) this.pending.splice(left, 1);
    }
  }

  /** The counters it reported last: after `stop`, its final ones (everything it sent). */
  get lastStats(): SimStats | undefined {
    return this.last;
  }

  /** Stops it sending, takes its final counts (see `lastStats`), then ends it. */
  async stop(): Promise<Exit> {
    const final = new Promise<void>((resolve) => this.pending.push(() => resolve()));
    this.process.send({ type: 'stop' });
    const timer = new AbortController();
    await Promise.race([
      final,
      this.process.exited,
      sleep(10_000, undefined, { signal: timer.signal }).catch(() => undefined),
    ]);
    timer.abort();
    return this.process.stop(10_000);
  }
}
