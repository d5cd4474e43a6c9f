import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServiceProcessOptions {
  name: string;
  /** A TypeScript entry, run as `node --conditions=source --import tsx <entry>`. */
  entry: string;
  /** Runs `<executable> <entry> <args>` instead of node (the Spark peer's Python job). */
  executable?: string;
  args?: string[];
  /** Options for node itself, before the entry. */
  nodeArgs?: string[];
  /** Added to (and overriding) the bench's own environment. */
  env?: Record<string, string>;
  cwd: string;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Opens an IPC channel (for the bench's own child entries). */
  ipc?: boolean;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const TAIL_LINES = 40;
const running = new Set<ChildProcess>();

// Children never outlive the bench, whatever way it ends.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * One service run as its own process, so that /proc measures it alone. Its output goes
 * to a log file; the last lines are kept for error messages, and a caller can wait for
 * a line matching a pattern (e.g. "started").
 */
export class ServiceProcess {
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private readonly tailLines: string[] = [];
  private readonly waiters: { pattern: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  private exit: Exit | undefined;

  constructor(readonly options: ServiceProcessOptions) {
    const log = createWriteStream(options.logFile, { flags: 'a' });
    this.child = spawn(
      options.executable ?? process.execPath,
      options.executable
        ? [options.entry, ...(options.args ?? [])]
        : [
            ...(options.nodeArgs ?? []),
            '--conditions=source',
            '--import',
            'tsx',
            options.entry,
            ...(options.args ?? []),
          ],
      {
        cwd: options.cwd,
        env: { ...process.env, ...options.env },
        stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      },
    );
    running.add(this.child);
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        log.write(chunk);
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) this.onLine(line);
      });
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        running.delete(this.child);
        this.exit = { code, signal };
        log.end();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    const pid = this.child.pid;
    if (pid === undefined) throw new Error(`${this.options.name} did not start`);
    return pid;
  }

  get name(): string {
    return this.options.name;
  }

  /** The process's last lines of output. */
  tail(): string {
    return this.tailLines.join('\n');
  }

  /** Resolves with the first line (from now on or already seen) matching `pattern`; rejects on exit or timeout. */
  async waitForLine(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    for (const line of this.tailLines) {
      const match = pattern.exec(line);
      if (match) return match;
    }
    const abort = new AbortController();
    const found = new Promise<RegExpExecArray>((resolve) => this.waiters.push({ pattern, resolve }));
    try {
      return await Promise.race([
        found,
        this.exited.then((exit) => {
          throw new Error(`${this.name} exited (${describeExit(exit)}) before printing ${pattern}:\n${this.tail()}`);
        }),
        sleep(timeoutMs, undefined, { signal: abort.signal }).then(() => {
          throw new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.tail()}`);
        }),
      ]);
    } finally {
      abort.abort();
    }
  }

  send(message: unknown): void {
    if (this.exit === undefined && this.child.connected) this.child.send(message as object);
  }

  onMessage(listener: (message: unknown) => void): void {
    this.child.on('message', listener);
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 15_000): Promise<Exit> {
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    const abort = new AbortController();
    const exit = await Promise.race([
      this.exited,
      sleep(graceMs, undefined, { signal: abort.signal }).then(() => undefined),
    ]);
    abort.abort();
    if (exit) return exit;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  private onLine(line: string): void {
    this.tailLines.push(line);
    if (this.tailLines.length > TAIL_LINES) this.tailLines.shift();
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i];
      const match = waiter?.pattern.exec(line);
      if (waiter && match) {
        this.waiters.splice(i, 1);
        waiter.resolve(match);
      }
    }
  }
}

export function describeExit(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
}
