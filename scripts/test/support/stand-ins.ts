/**
 * Stand-ins for ClickHouse programs: small shell scripts named `clickhouse` or
 * `clickhouse-server` that answer `--version` as the real ones do and, as a server,
 * start a tiny HTTP server that answers `/ping` and `SELECT version()` like ClickHouse.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** What a stand-in does when asked for its version. */
export type StandInVersion =
  | { prints: string } // e.g. "24.8.14.39": prints "ClickHouse server version 24.8.14.39 (official build)."
  | 'no --version' // as Debian's 18.16 build: "Unknown option specified: version" and exit 78
  | 'killed'; // as macOS does to an unverified download: SIGKILL

/** Serves `/ping` and `SELECT version()` on 127.0.0.1:<argv[2]>, answering version <argv[3]>. */
const fakeServer = `import http from 'node:http';
const [port, version] = process.argv.slice(2);
http
  .createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    if (url.pathname === '/ping') res.end('Ok.\\n');
    else if (url.searchParams.get('query') === 'SELECT version()') res.end(version + '\\n');
    else res.writeHead(404).end();
  })
  .listen(Number(port), '127.0.0.1');
`;

/** Writes the fake server next to `dir`'s stand-ins; its path. */
export function writeFakeServer(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'fake-clickhouse.mjs');
  writeFileSync(file, fakeServer);
  return file;
}

/**
 * Writes `dir/name` (`clickhouse` runs its server as `clickhouse server ...`,
 * `clickhouse-server` directly). Every call's arguments are appended to `dir/calls.log`.
 */
export function writeStandIn(dir: string, name: 'clickhouse' | 'clickhouse-server', version: StandInVersion): string {
  const server = writeFakeServer(dir);
  const file = path.join(dir, name);
  const sub = name === 'clickhouse' ? 'server ' : '';
  const answer =
    version === 'killed'
      ? 'kill -KILL $$'
      : version === 'no --version'
        ? 'echo "Unknown option specified: version" >&2; exit 78'
        : `echo "ClickHouse server version ${version.prints} (official build)."; exit 0`;
  const serves =
    typeof version === 'object'
      ? [
          `case "$*" in "${sub}--config-file="*)`,
          `  config=$(echo "$*" | sed 's/.*--config-file=//')`,
          `  port=$(sed -n 's:.*<http_port>\\(.*\\)</http_port>.*:\\1:p' "$config")`,
          `  exec '${process.execPath}' '${server}' "$port" '${version.prints}' ;;`,
          'esac',
        ]
      : [];
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      `echo "$*" >> '${path.join(dir, 'calls.log')}'`,
      `if [ "$*" = "${sub}--version" ]; then ${answer}; fi`,
      ...serves,
      'exit 2',
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o755);
  return file;
}
