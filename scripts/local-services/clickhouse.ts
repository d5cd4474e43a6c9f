import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { commonEnv, parseEnv } from '@candleflow/common/env';
import {
  chooseClickhouse,
  compareVersions,
  defaultSearchPath,
  describeProgram,
  findClickhouse,
  hostFacts,
  serverCommand,
  toVersion,
  type ClickhouseProbe,
  type Version,
} from './clickhouse-binary.js';
import {
  ServiceError,
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

/** The version the server at `url` reports to `user`, or why it could not be asked. */
export async function serverVersion(
  url: string,
  user: string,
  password: string,
): Promise<{ version: Version } | { error: string }> {
  try {
    const res = await fetch(new URL('/?query=SELECT%20version()', url), {
      headers: { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` },
      signal: AbortSignal.timeout(2000),
    });
    const body = (await res.text()).trim();
    const version = toVersion(body);
    if (res.ok && version !== undefined) return { version };
    return { error: `SELECT version() as ${user}: HTTP ${res.status} ${body.split('\n')[0]?.slice(0, 160) ?? ''}` };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The root element of the config files for a server `version`. Current releases document
 * `<clickhouse>` (read since late 2021; taken here from 22.1 on) and still accept the old
 * `<yandex>`, the only one 18.16 (which tells no version) knows. 18.16 merges a users.d
 * file only when its root matches users.xml's, so all of one server's files get the same.
 */
export function configRoot(version: Version | undefined): 'clickhouse' | 'yandex' {
  return version !== undefined && compareVersions(version, [22, 1]) >= 0 ? 'clickhouse' : 'yandex';
}

const xmlEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * `clickhouse/users.d/candleflow-web.xml` with each `<tag from_env="NAME"/>` replaced by
 * `<tag>value</tag>`, under the root element `rootElement`. The local server gets literal
 * values because a running server picks up a changed users file but never a changed
 * environment, and an unset variable would leave the password empty.
 */
export function webUserConfig(
  root: string,
  values: Record<string, string>,
  rootElement: 'clickhouse' | 'yandex',
): string {
  const template = readFileSync(path.join(root, 'clickhouse', 'users.d', 'candleflow-web.xml'), 'utf8');
  return template
    .replace(/<(\/?)yandex>/g, `<$1${rootElement}>`)
    .replace(/<(\w+) from_env="(\w+)"\s*\/>/g, (_, tag: string, name: string) => {
      const value = values[name];
      if (value === undefined) throw new ServiceError(`candleflow-web.xml reads ${name}, which has no local value`);
      return `<${tag}>${value.replace(/[&<>"']/g, (c) => xmlEscapes[c] ?? c)}</${tag}>`;
    });
}

/** Debian's clickhouse-server, for a machine that has no ClickHouse (chooseClickhouse says when). */
function installDebianPackage(): void {
  console.log('services: installing clickhouse-server with apt-get (first run only)...');
  const run = (args: string[]): boolean =>
    spawnSync('apt-get', args, {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    }).status === 0;
  if (!run(['update', '-qq']) || !run(['install', '-y', '-qq', 'clickhouse-server'])) {
    throw new ServiceError('apt-get could not install clickhouse-server; check access to the Debian package mirror');
  }
}

/**
 * ClickHouse on loopback with the project's users: `default` (no password) and the web's
 * read-only user. `stateDir` (default `<root>/.local/clickhouse`) holds its config, data
 * and logs; the other options default to the environment, so tests can run a private
 * server, and `searchPath` (default: PATH and the sbin folders) is where its program is looked for.
 */
export function localClickhouse(
  root: string,
  url: string,
  options: { stateDir?: string; tcpPort?: number; database?: string; webPassword?: string; searchPath?: string } = {},
): LocalService {
  const dir = options.stateDir ?? path.join(root, '.local', 'clickhouse');
  const pidFile = path.join(dir, 'clickhouse.pid');
  const logFile = path.join(dir, 'stdout.log');
  const parsed = new URL(url);
  const host = parsed.hostname;
  const httpPort = Number(parsed.port || 8123);
  const tcpPort = options.tcpPort ?? Number(process.env.CLICKHOUSE_TCP_PORT ?? 9000);
  const searchPath = options.searchPath ?? defaultSearchPath();
  const env = parseEnv(
    {
      ...clickhouseUsersEnv,
      CLICKHOUSE_USER: commonEnv.CLICKHOUSE_USER,
      CLICKHOUSE_PASSWORD: commonEnv.CLICKHOUSE_PASSWORD,
    },
    process.env,
  );
  const webPassword = options.webPassword ?? env.CLICKHOUSE_WEB_PASSWORD;
  const webUserFile = path.join(dir, 'users.d', 'candleflow-web.xml');
  const webUserXml = (version: Version | undefined): string =>
    webUserConfig(
      root,
      { CLICKHOUSE_DB: options.database ?? env.CLICKHOUSE_DB, CLICKHOUSE_WEB_PASSWORD: webPassword },
      configRoot(version),
    );

  async function state(): Promise<ServiceState> {
    const pid = runningPid(pidFile);
    if (pid !== undefined) return { kind: 'ours', pid, endpoint: url };
    if (await clickhouseAnswers(url, 1500)) return { kind: 'external', endpoint: url };
    return { kind: 'stopped', endpoint: url };
  }

  /** The newest ClickHouse installed; Debian's package first where chooseClickhouse says so. */
  async function serverProgram(): Promise<ClickhouseProbe> {
    const choice = chooseClickhouse(await findClickhouse(searchPath), hostFacts(searchPath));
    if (choice.kind === 'run') return choice.program;
    if (choice.kind === 'missing') throw new ServiceError(choice.message);
    installDebianPackage();
    const installed = chooseClickhouse(await findClickhouse(searchPath), hostFacts(searchPath));
    if (installed.kind !== 'run')
      throw new ServiceError(`apt-get installed clickhouse-server, but it is not on ${searchPath}`);
    return installed.program;
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
    const program = await serverProgram();
    const rootElement = configRoot(program.version);
    for (const sub of ['data', 'tmp', 'user_files', 'format_schemas', 'log', 'users.d'])
      mkdirSync(path.join(dir, sub), { recursive: true });
    const config = path.join(dir, 'config.xml');
    // Only keys that 18.16 and current releases both read the same way; the root element is the one difference.
    writeFileSync(
      config,
      `<?xml version="1.0"?>
<${rootElement}>
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
</${rootElement}>
`,
    );
    writeFileSync(
      path.join(dir, 'users.xml'),
      `<?xml version="1.0"?>
<${rootElement}>
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
</${rootElement}>
`,
    );
    writeFileSync(webUserFile, webUserXml(program.version));
    const [command, args] = serverCommand(program, config);
    const pid = spawnDetached(command, args, logFile, pidFile);
    await waitFor(`${describeProgram(program)} on ${url}`, () => clickhouseAnswers(url, 1000), {
      timeoutMs: 60_000,
      abortIf: () =>
        runningPid(pidFile) === undefined
          ? `${describeProgram(program)} exited during start; last lines of its logs:\n${tail(logFile)}\n${tail(path.join(dir, 'log', 'error.log'))}`
          : undefined,
    });
    return pid;
  }

  /** A server started by an older version, or with another password, gets the current web user. */
  async function update(): Promise<void> {
    const running = await serverVersion(url, 'default', '');
    const xml = webUserXml('version' in running ? running.version : undefined);
    if (existsSync(webUserFile) && readFileSync(webUserFile, 'utf8') === xml) return;
    mkdirSync(path.dirname(webUserFile), { recursive: true });
    writeFileSync(webUserFile, xml);
    // ClickHouse rereads its users files every few seconds, without a restart.
    await waitFor(`ClickHouse to load the ${webUser} user`, () => clickhouseAcceptsUser(url, webUser, webPassword), {
      timeoutMs: 30_000,
    });
  }

  /** The running server's version (a server not managed here is asked as CLICKHOUSE_USER), or what start() would run. */
  async function describe(current: ServiceState): Promise<string> {
    if (current.kind === 'stopped') {
      const choice = chooseClickhouse(await findClickhouse(searchPath), hostFacts(searchPath));
      if (choice.kind === 'run') return `up would start ${describeProgram(choice.program)}`;
      if (choice.kind === 'install-debian') return "up would install Debian's clickhouse-server with apt-get";
      return choice.message;
    }
    const answer =
      current.kind === 'ours'
        ? await serverVersion(url, 'default', '')
        : await serverVersion(url, env.CLICKHOUSE_USER, env.CLICKHOUSE_PASSWORD);
    return 'version' in answer
      ? `ClickHouse ${answer.version.join('.')}`
      : `ClickHouse, version unknown (${answer.error})`;
  }

  async function stop(): Promise<void> {
    const pid = runningPid(pidFile);
    if (pid !== undefined) await stopPid(pid, 30_000);
  }

  return { name: 'clickhouse', state, start, update, describe, stop };
}
