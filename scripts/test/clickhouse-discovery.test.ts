/**
 * Finding ClickHouse on a real search path, with stand-in programs (shell scripts) that
 * answer --version as the real ones do: each is run, the newest wins, and a stand-in
 * server is started the way its kind is started, configured for its version, reported
 * by `services:status` and stopped.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { findProjectRoot } from '@candleflow/common/env';
import { freePort } from '@candleflow/common/free-port';
import { waitUntil } from '@candleflow/common/testing';
import { chooseClickhouse, findClickhouse, hostFacts } from '../local-services/clickhouse-binary.js';
import { clickhouseAnswers, localClickhouse } from '../local-services/clickhouse.js';
import { ServiceError, isAlive, stopPid } from '../local-services/processes.js';
import { writeFakeServer, writeStandIn } from './support/stand-ins.js';

const base = mkdtempSync(path.join(tmpdir(), 'candleflow-clickhouse-bin-'));
const dir = (name: string): string => {
  const d = path.join(base, name);
  mkdirSync(d, { recursive: true });
  return d;
};
const debian = dir('debian'); // clickhouse-server without --version, as Debian's 18.16
const single = dir('single'); // clickhouse 24.8.14.39
const newer = dir('newer'); // clickhouse-server 25.3.2.1
const blocked = dir('blocked'); // clickhouse that macOS kills
const notExecutable = dir('not-executable');
writeStandIn(debian, 'clickhouse-server', 'no --version');
writeStandIn(single, 'clickhouse', { prints: '24.8.14.39' });
writeStandIn(newer, 'clickhouse-server', { prints: '25.3.2.1' });
writeStandIn(blocked, 'clickhouse', 'killed');
writeFileSync(path.join(notExecutable, 'clickhouse'), '#!/bin/sh\necho "ClickHouse server version 99.1.1.1."\n');
chmodSync(path.join(notExecutable, 'clickhouse'), 0o644);
const alias = path.join(base, 'alias'); // the same folder twice on the path, as /sbin and /usr/sbin
symlinkSync(single, alias);
const searchPath = (...dirs: string[]): string => dirs.join(path.delimiter);

const started: number[] = [];
after(async () => {
  await Promise.all(started.map((pid) => stopPid(pid, 5000)));
  rmSync(base, { recursive: true, force: true });
});

test('every clickhouse and clickhouse-server on the path is asked for its version, each real file once', async () => {
  const probes = await findClickhouse(searchPath(notExecutable, debian, single, alias, blocked, newer));
  assert.deepEqual(probes, [
    { path: path.join(single, 'clickhouse'), kind: 'single', version: [24, 8, 14, 39] },
    { path: path.join(blocked, 'clickhouse'), kind: 'single', error: 'killed by SIGKILL' },
    { path: path.join(debian, 'clickhouse-server'), kind: 'server' },
    { path: path.join(newer, 'clickhouse-server'), kind: 'server', version: [25, 3, 2, 1] },
  ]);
  // The single binary is asked as its server, the package's server directly.
  assert.equal(readFileSync(path.join(single, 'calls.log'), 'utf8'), 'server --version\n');
  assert.equal(readFileSync(path.join(newer, 'calls.log'), 'utf8'), '--version\n');
});

test('the newest wins, wherever it is on the path; one without --version only when alone', async () => {
  const host = { platform: 'linux', root: false, aptGet: false } as const;
  const chosen = async (...dirs: string[]): Promise<string | undefined> => {
    const choice = chooseClickhouse(await findClickhouse(searchPath(...dirs)), host);
    return choice.kind === 'run' ? choice.program.path : undefined;
  };
  assert.equal(await chosen(debian, single, newer), path.join(newer, 'clickhouse-server'));
  assert.equal(await chosen(newer, single, debian), path.join(newer, 'clickhouse-server'));
  assert.equal(await chosen(debian, single), path.join(single, 'clickhouse'));
  assert.equal(await chosen(blocked, debian), path.join(debian, 'clickhouse-server'));
  assert.equal(await chosen(debian), path.join(debian, 'clickhouse-server'));
  assert.equal(await chosen(blocked), undefined);
});

test('an empty path has no apt-get, so nothing gets installed', () => {
  assert.equal(hostFacts(searchPath(dir('empty'))).aptGet, false);
});

test('with nothing installed, start() fails with one line on how to install ClickHouse', async () => {
  const url = `http://127.0.0.1:${await freePort()}`;
  const clickhouse = localClickhouse(findProjectRoot(), url, {
    stateDir: dir('state-missing'),
    tcpPort: await freePort(),
    searchPath: searchPath(dir('empty')),
  });
  const stopped = await clickhouse.state();
  assert.equal(stopped.kind, 'stopped');
  const said = await clickhouse.describe?.(stopped);
  await assert.rejects(clickhouse.start(), (error: Error) => {
    assert.ok(error instanceof ServiceError);
    assert.match(error.message, /^ClickHouse not found .*curl https:\/\/clickhouse\.com\/ \| sh.*then rerun/);
    assert.doesNotMatch(error.message, /\n/);
    assert.equal(said, error.message, 'status says the same before');
    return true;
  });
});

for (const kind of ['clickhouse', 'clickhouse-server'] as const) {
  test(`a ${kind} stand-in is started as its kind is, with the config of its version, and stopped`, async () => {
    const programDir = dir(`serving-${kind}`);
    const program = writeStandIn(programDir, kind, { prints: kind === 'clickhouse' ? '24.8.14.39' : '25.3.2.1' });
    const stateDir = dir(`state-${kind}`);
    const url = `http://127.0.0.1:${await freePort()}`;
    const clickhouse = localClickhouse(findProjectRoot(), url, {
      stateDir,
      tcpPort: await freePort(),
      searchPath: searchPath(debian, programDir),
    });
    const version = kind === 'clickhouse' ? '24.8.14.39' : '25.3.2.1';
    assert.equal(
      await clickhouse.describe?.({ kind: 'stopped', endpoint: url }),
      `up would start ClickHouse ${version} at ${program}`,
    );

    const pid = await clickhouse.start();
    started.push(pid);
    const state = await clickhouse.state();
    assert.deepEqual(state, { kind: 'ours', pid, endpoint: url });
    assert.equal(await clickhouse.describe?.(state), `ClickHouse ${version}`);
    const config = path.join(stateDir, 'config.xml');
    const calls = readFileSync(path.join(programDir, 'calls.log'), 'utf8').trim().split('\n');
    assert.equal(calls.at(-1), kind === 'clickhouse' ? `server --config-file=${config}` : `--config-file=${config}`);
    for (const file of ['config.xml', 'users.xml', 'users.d/candleflow-web.xml']) {
      const xml = readFileSync(path.join(stateDir, file), 'utf8');
      assert.match(xml, /^<\?xml version="1.0"\?>\n/, file);
      assert.deepEqual(
        [...xml.matchAll(/<\/?(yandex|clickhouse)>/g)].map((m) => m[0]),
        ['<clickhouse>', '</clickhouse>'],
        file,
      );
    }
    assert.match(readFileSync(config, 'utf8'), new RegExp(`<http_port>${new URL(url).port}</http_port>`));

    await clickhouse.stop();
    assert.equal(isAlive(pid), false);
    assert.equal((await clickhouse.state()).kind, 'stopped');
    assert.equal(await clickhouseAnswers(url, 500), false);
  });
}

test('services:status says what runs where, and which ClickHouse `up` would start', async () => {
  const kafka = `127.0.0.1:${await freePort()}`;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // A project root of its own: the pid files of the shared services under .local/ are not this test's.
  const root = dir('project');
  writeFileSync(path.join(root, 'package-lock.json'), '{}\n');
  cpSync(path.join(findProjectRoot(), 'clickhouse'), path.join(root, 'clickhouse'), { recursive: true });
  const status = async (): Promise<string[]> => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      // tsx as this project has it: the child's cwd is the other root.
      [
        '--conditions=source',
        '--import',
        import.meta.resolve('tsx'),
        path.join(findProjectRoot(), 'scripts', 'services.ts'),
        'status',
      ],
      {
        cwd: root,
        env: {
          ...process.env,
          PATH: `${single}${path.delimiter}${process.env.PATH ?? ''}`,
          KAFKA_BROKERS: kafka,
          CLICKHOUSE_URL: url,
        },
      },
    );
    return stdout.trim().split('\n');
  };
  assert.deepEqual(await status(), [
    `services: kafka: stopped at ${kafka}`,
    `services: clickhouse: stopped at ${url}, up would start ClickHouse 24.8.14.39 at ${path.join(single, 'clickhouse')}`,
  ]);

  // A server nobody here started: used as it is, and asked for its version.
  const server = spawn(process.execPath, [writeFakeServer(dir('external')), String(port), '23.8.16.40'], {
    stdio: 'ignore',
  });
  assert.ok(server.pid !== undefined);
  started.push(server.pid);
  await waitUntil('the external stand-in to answer', () => clickhouseAnswers(url, 500));
  assert.deepEqual(await status(), [
    `services: kafka: stopped at ${kafka}`,
    `services: clickhouse: external (not managed here) at ${url}, ClickHouse 23.8.16.40`,
  ]);
});
