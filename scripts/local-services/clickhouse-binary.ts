/**
 * Which ClickHouse server program the local services run. Every `clickhouse` (the single
 * official binary, as clickhouse.com's install script and Homebrew install it, run as
 * `clickhouse server`) and `clickhouse-server` (a package's) on the search path is asked
 * for its version, and the newest wins. The choice is a pure function of those answers.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import path from 'node:path';

/** A release number, most significant part first: 24.8.14.39 is [24, 8, 14, 39]. */
export type Version = readonly number[];

/** `24.8.14.39` as a Version; undefined for anything else. */
export function toVersion(text: string): Version | undefined {
  return /^\d+(\.\d+)+$/.test(text) ? text.split('.').map(Number) : undefined;
}

/**
 * The version in what a ClickHouse program prints for `--version`: "ClickHouse server
 * version 24.8.14.39 (official build)." or 18.16's "ClickHouse server version 18.16.1.".
 */
export function parseVersionOutput(output: string): Version | undefined {
  const match = /\bClickHouse (?:[\w-]+ )?version (\d+(?:\.\d+)+)/.exec(output);
  return match?.[1] === undefined ? undefined : toVersion(match[1]);
}

/** Negative if `a` is older than `b`; a missing part counts as 0 (22.1 = 22.1.0). */
export function compareVersions(a: Version, b: Version): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

/** `single`: the one `clickhouse` binary, whose server is `clickhouse server`; `server`: a `clickhouse-server` program. */
export type ProgramKind = 'single' | 'server';

/** What one ClickHouse program on the search path answered when asked for its version. */
export interface ClickhouseProbe {
  path: string;
  kind: ProgramKind;
  /** Undefined when it printed none: Debian's 18.16 build has no `--version` ("Unknown option specified: version"). */
  version?: Version;
  /** Set when the program could not be run at all (killed, as macOS does to an unverified download, or not executable). */
  error?: string;
}

/** The facts about this machine that decide what to do when no ClickHouse is installed. */
export interface HostFacts {
  platform: NodeJS.Platform;
  root: boolean;
  aptGet: boolean;
}

export type ClickhouseChoice =
  { kind: 'run'; program: ClickhouseProbe } | { kind: 'install-debian' } | { kind: 'missing'; message: string };

function installHint(host: HostFacts): string {
  const curl = '`curl https://clickhouse.com/ | sh && sudo mv clickhouse /usr/local/bin/`';
  const hints = host.platform === 'darwin' ? ['`brew install --cask clickhouse`', curl] : [curl];
  if (host.aptGet) hints.push('`sudo apt-get install clickhouse-server` (Debian, older)');
  return hints.join(' or ');
}

/**
 * The server to run, given what each program on the search path answered (in search
 * order). The newest version wins; a program that prints no version predates every one
 * that does, so it comes last; ties keep the given order. Debian's package is installed
 * only when no ClickHouse is there at all and apt-get may run (root); otherwise the user
 * gets one line saying how to install one.
 */
export function chooseClickhouse(probes: readonly ClickhouseProbe[], host: HostFacts): ClickhouseChoice {
  let best: ClickhouseProbe | undefined;
  for (const probe of probes) {
    if (probe.error !== undefined) continue;
    const newer =
      best === undefined ||
      (probe.version !== undefined && (best.version === undefined || compareVersions(probe.version, best.version) > 0));
    if (newer) best = probe;
  }
  if (best !== undefined) return { kind: 'run', program: best };
  const broken = probes[0];
  if (broken !== undefined) {
    // macOS kills a downloaded binary it has not verified until its quarantine flag is removed.
    const unblock =
      host.platform === 'darwin'
        ? `if macOS blocked it, run \`xattr -d com.apple.quarantine ${broken.path}\`, else `
        : '';
    return {
      kind: 'missing',
      message: `${broken.path} does not run (${broken.error}); ${unblock}reinstall ClickHouse with ${installHint(host)}, then rerun`,
    };
  }
  if (host.root && host.aptGet) return { kind: 'install-debian' };
  return {
    kind: 'missing',
    message: `ClickHouse not found (no clickhouse or clickhouse-server on PATH); install it with ${installHint(host)}, then rerun, or set CLICKHOUSE_URL to a running server`,
  };
}

/** "ClickHouse 24.8.14.39 at /usr/local/bin/clickhouse", for log and status lines. */
export function describeProgram(program: ClickhouseProbe): string {
  const version = program.version === undefined ? '(a release without --version)' : program.version.join('.');
  return `ClickHouse ${version} at ${program.path}`;
}

/** The command line that runs `program` as a server with `configFile`. */
export function serverCommand(program: ClickhouseProbe, configFile: string): [string, string[]] {
  const config = `--config-file=${configFile}`;
  return [program.path, program.kind === 'single' ? ['server', config] : [config]];
}

/**
 * PATH, then the sbin folders where packages put servers (Debian's clickhouse-server is
 * /usr/sbin/clickhouse-server) and which a normal user's PATH often lacks.
 */
export function defaultSearchPath(): string {
  return [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin'].join(path.delimiter);
}

/** Every executable file called `name` in `searchPath`, in order; each real file once (/sbin is often /usr/sbin). */
export function findExecutables(name: string, searchPath: string): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (!statSync(file).isFile()) continue;
      const real = realpathSync(file);
      if (seen.has(real)) continue;
      seen.add(real);
      found.push(file);
    } catch {
      // Not there, or not executable: not a candidate.
    }
  }
  return found;
}

/** Asks `file` for its version the way its kind answers: `clickhouse server --version`, `clickhouse-server --version`. */
export function probeProgram(file: string, kind: ProgramKind, timeoutMs = 20_000): Promise<ClickhouseProbe> {
  const args = kind === 'single' ? ['server', '--version'] : ['--version'];
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      const version = parseVersionOutput(`${stdout}\n${stderr}`);
      if (version !== undefined) resolve({ path: file, kind, version });
      // It ran and exited by itself: an old server without --version, which still runs.
      else if (error === null || typeof error.code === 'number') resolve({ path: file, kind });
      else if (error.killed) resolve({ path: file, kind, error: `no answer to --version within ${timeoutMs / 1000}s` });
      else resolve({ path: file, kind, error: error.signal ? `killed by ${error.signal}` : error.message });
    });
  });
}

/** Every `clickhouse`, then every `clickhouse-server`, on `searchPath`, each with its answer. */
export function findClickhouse(searchPath: string): Promise<ClickhouseProbe[]> {
  return Promise.all([
    ...findExecutables('clickhouse', searchPath).map((file) => probeProgram(file, 'single')),
    ...findExecutables('clickhouse-server', searchPath).map((file) => probeProgram(file, 'server')),
  ]);
}

export function hostFacts(searchPath: string): HostFacts {
  return {
    platform: process.platform,
    root: process.getuid?.() === 0,
    aptGet: findExecutables('apt-get', searchPath).length > 0,
  };
}
