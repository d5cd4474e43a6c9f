import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { commonEnv, parseEnv } from '@candleflow/common/env';
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

/** True only if a ClickHouse server answers its HTTP `/ping`. */
export async function clickhouseAnswers(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(new URL('/ping', url), { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok && (await res.text()).startsWith('Ok.');
  } catch {
    return false;
  }
}

/** The web's read-only user, defined in `clickhouse/users.d/candleflow-web.xml`. */
export const webUser = 'candleflow_web';

/** What the local server's users depend on: the database the web may read, and its password. */
export const clickhouseUsersEnv = {
  CLICKHOUSE_DB: commonEnv.CLICKHOUSE_DB,
  CLICKHOUSE_WEB_PASSWORD: z.string().default('candleflow_web'),
} as const;

/** True only if ClickHouse at `url` lets `user` in with `password`. */
export async function clickhouseAcceptsUser(url: string, user: string, password: string): Promise<boolean> {
  try {
    const res = await fetch(new URL('/?query=SELECT%201', url), {
      headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
      signal: AbortSignal.timeout(2000),
    });
    return res.ok;
  } catch {
    return false;
  }
}

const xmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * `clickhouse/users.d/candleflow-web.xml` with each `<tag from_env="NAME"/>` replaced by
 * `<tag>value</tag>`. The local server gets literal values because a running server
 * picks up a changed users file but never a changed environment, and an unset variable
 * would leave the password empty.
 */
export function webUserConfig(root: string, values: Record<string, string>): string {
  const template = readFileSync(path.join(root, 'clickhouse', 'users.d', 'candleflow-web.xml'), 'utf8');
  return template.replace(/<(\w+) from_env="(\w+)"\s*\/>/g, (_, tag: string, name: string) => {
    const value = values[name];
    if (value === undefined) throw new ServiceError(`candleflow-web.xml reads ${name}, which has no local value`);
    return `<${tag}>${value.replace(/[&<>"']/g, (c) => xmlEscapes[c] ?? c)}</${tag}>`;
  });
}

/** Debian's package; installed on first use where we may (root with apt-get). */
function ensureClickhouseInstalled(): string {
  if (commandExists('clickhouse-server')) return 'clickhouse-server';
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !commandExists('apt-get')) {
    throw new ServiceError(
      'clickhouse-server not found; install it (Debian: sudo apt-get install clickhouse-server) or set CLICKHOUSE_URL to a running server',
    );
  }
  console.log('services: installing clickhouse-server with apt-get (first run only)...');
  const run = (args: string[]): boolean =>
    spawnSync('apt-get', args, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  if (!run(['update', '-qq']) || !run(['install', '-y', '-qq', 'clickhouse-server'])) {
    throw new ServiceError('apt-get could not install clickhouse-server; check access to the Debian package mirror');
  }
  return 'clickhouse-server';
}

/**
 * ClickHouse on loopback with the project's users: `default` (no password) and the web's
 * read-only user. `stateDir` (default `<root>/.local/clickhouse`) holds its config, data
 * and logs; the other options default to the environment, so tests can run a private server.
 */
export function localClickhouse(
  root: string,
  url: string,
  options: { stateDir?: string; tcpPort?: number; database?: string; webPassword?: string } = {},
): LocalService {
  const dir = options.stateDir ?? path.join(root, '.local', 'clickhouse');
  const pidFile = path.join(dir, 'clickhouse.pid');
  const logFile = path.join(dir, 'stdout.log');
  const parsed = new URL(url);
  const host = parsed.hostname;
  const httpPort = Number(parsed.port || 8123);
  const tcpPort = options.tcpPort ?? Number(process.env.CLICKHOUSE_TCP_PORT ?? 9000);
  const env = parseEnv(clickhouseUsersEnv, process.env);
  const webPassword = options.webPassword ?? env.CLICKHOUSE_WEB_PASSWORD;
  const webUserFile = path.join(dir, 'users.d', 'candleflow-web.xml');
  const webUserXml = webUserConfig(root, {
    CLICKHOUSE_DB: options.database ?? env.CLICKHOUSE_DB,
    CLICKHOUSE_WEB_PASSWORD: webPassword,
  });

  async function state(): Promise<ServiceState> {
    const pid = runningPid(pidFile);
    if (pid !== undefined) return { kind: 'ours', pid, endpoint: url };
    if (await clickhouseAnswers(url, 1500)) return { kind: 'external', endpoint: url };
    return { kind: 'stopped', endpoint: url };
  }

  async function start(): Promise<number> {
    if (!isLoopback(host)) {
      throw new ServiceError(`CLICKHOUSE_URL=${url} is not reachable, and only a loopback server can be started here`);
    }
    for (const [p, variable] of [
      [httpPort, 'CLICKHOUSE_URL'],
      [tcpPort, 'CLICKHOUSE_TCP_PORT'],
    ] as const) {
      if (await isPortOpen(host, p)) {
        throw new ServiceError(
          `port ${p} on ${host} is taken by a program that is not ClickHouse; stop it, or set ${variable} to a free port`,
        );
      }
    }
    const binary = ensureClickhouseInstalled();
    for (const sub of ['data', 'tmp', 'user_files', 'format_schemas', 'log', 'users.d'])
      mkdirSync(path.join(dir, sub), { recursive: true });
    const config = path.join(dir, 'config.xml');
    writeFileSync(
      config,
      `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/error.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <listen_host>${host}</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
</yandex>
`,
    );
    writeFileSync(
      path.join(dir, 'users.xml'),
      `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`,
    );
    writeFileSync(webUserFile, webUserXml);
    const pid = spawnDetached(binary, [`--config-file=${config}`], logFile, pidFile);
    await waitFor(`ClickHouse on ${url}`, () => clickhouseAnswers(url, 1000), {
      timeoutMs: 60_000,
      abortIf: () =>
        runningPid(pidFile) === undefined
          ? `ClickHouse exited during start; last lines of its logs:\n${tail(logFile)}\n${tail(path.join(dir, 'log', 'error.log'))}`
          : undefined,
    });
    return pid;
  }

  /** A server started by an older version, or with another password, gets the current web user. */
  async function update(): Promise<void> {
    if (existsSync(webUserFile) && readFileSync(webUserFile, 'utf8') === webUserXml) return;
    mkdirSync(path.dirname(webUserFile), { recursive: true });
    writeFileSync(webUserFile, webUserXml);
    // ClickHouse rereads its users files every few seconds, without a restart.
    await waitFor(`ClickHouse to load the ${webUser} user`, () => clickhouseAcceptsUser(url, webUser, webPassword), {
      timeoutMs: 30_000,
    });
  }

  async function stop(): Promise<void> {
    const pid = runningPid(pidFile);
    if (pid !== undefined) await stopPid(pid, 30_000);
  }

  return { name: 'clickhouse', state, start, update, stop };
}
