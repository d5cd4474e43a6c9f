/**
 * Which ClickHouse the local services run: version parsing, the choice among the programs
 * found (every subset of a pool of answers, in both orders, on every kind of host), and
 * the per-version config root.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findProjectRoot } from '@candleflow/common/env';
import {
  chooseClickhouse,
  compareVersions,
  describeProgram,
  parseVersionOutput,
  serverCommand,
  type ClickhouseProbe,
  type HostFacts,
  type Version,
} from '../local-services/clickhouse-binary.js';
import { configRoot, webUserConfig } from '../local-services/clickhouse.js';

test('parses the version each kind of ClickHouse prints, and nothing else', () => {
  const cases: [string, Version | undefined][] = [
    ['ClickHouse server version 24.8.14.39 (official build).\n', [24, 8, 14, 39]],
    ['ClickHouse server version 18.16.1.\n', [18, 16, 1]],
    ['ClickHouse local version 25.3.1.2703 (official build).\n', [25, 3, 1, 2703]],
    ['\nClickHouse client version 18.16.1.\n', [18, 16, 1]],
    ['Unknown option specified: version\n', undefined],
    ['clickhouse-cli 0.3.9\n', undefined],
    ['', undefined],
  ];
  for (const [output, version] of cases) assert.deepEqual(parseVersionOutput(output), version, output);
});

test('compares versions part by part, a missing part counting as 0', () => {
  assert.equal(compareVersions([22, 1], [22, 1, 0]), 0);
  assert.ok(compareVersions([18, 16, 1], [22, 1]) < 0);
  assert.ok(compareVersions([24, 8, 14, 39], [25, 3]) < 0);
  assert.ok(compareVersions([24, 10], [24, 8, 14, 39]) > 0);
  assert.ok(compareVersions([24, 8, 14, 40], [24, 8, 14, 39]) > 0);
});

const pool: ClickhouseProbe[] = [
  { path: '/a/clickhouse', kind: 'single', version: [24, 8, 14, 39] },
  { path: '/b/clickhouse-server', kind: 'server', version: [18, 16, 1] },
  { path: '/c/clickhouse-server', kind: 'server' },
  { path: '/d/clickhouse', kind: 'single', version: [25, 3] },
  { path: '/e/clickhouse-server', kind: 'server', version: [24, 8, 14, 39] },
  { path: '/f/clickhouse', kind: 'single', error: 'killed by SIGKILL' },
  { path: '/g/clickhouse-server', kind: 'server' },
];

const hosts: HostFacts[] = (['linux', 'darwin'] as const).flatMap((platform) =>
  [false, true].flatMap((root) => [false, true].map((aptGet) => ({ platform, root, aptGet }))),
);

/** -1 for a program without a version: older than every one that tells. */
const rank = (a: ClickhouseProbe, b: ClickhouseProbe): number =>
  a.version === undefined || b.version === undefined
    ? Number(a.version !== undefined) - Number(b.version !== undefined)
    : compareVersions(a.version, b.version);

test('runs the newest working program; Debian only on a bare root host with apt-get; else one line on how to install', () => {
  let checked = 0;
  for (let mask = 0; mask < 1 << pool.length; mask++) {
    const subset = pool.filter((_, i) => mask & (1 << i));
    for (const probes of [subset, [...subset].reverse()]) {
      for (const host of hosts) {
        const choice = chooseClickhouse(probes, host);
        const where = `${JSON.stringify(probes.map((p) => p.path))} on ${JSON.stringify(host)}`;
        const working = probes.filter((p) => p.error === undefined);
        if (working.length > 0) {
          assert.equal(choice.kind, 'run', where);
          if (choice.kind !== 'run') continue;
          const chosen = choice.program;
          assert.ok(working.includes(chosen), where);
          assert.ok(
            working.every((p) => rank(p, chosen) <= 0),
            `${where}: ${chosen.path} is not the newest`,
          );
          const first = working.find((p) => rank(p, chosen) === 0);
          assert.equal(chosen, first, `${where}: a tie keeps the given order`);
        } else if (probes.length === 0 && host.root && host.aptGet) {
          assert.deepEqual(choice, { kind: 'install-debian' }, where);
        } else {
          assert.equal(choice.kind, 'missing', where);
          if (choice.kind !== 'missing') continue;
          const { message } = choice;
          assert.doesNotMatch(message, /\n/, where);
          assert.match(message, /`curl https:\/\/clickhouse\.com\/ \| sh && sudo mv clickhouse \/usr\/local\/bin\/`/);
          assert.equal(message.includes('`brew install --cask clickhouse`'), host.platform === 'darwin', where);
          assert.equal(message.includes('sudo apt-get install clickhouse-server'), host.aptGet, where);
          assert.match(message, /then rerun/);
          const broken = probes[0];
          if (broken === undefined) assert.match(message, /^ClickHouse not found \(no clickhouse or clickhouse-server/);
          else {
            assert.ok(message.startsWith(`${broken.path} does not run (killed by SIGKILL)`), where);
            assert.equal(message.includes(`xattr -d com.apple.quarantine ${broken.path}`), host.platform === 'darwin');
          }
        }
        checked++;
      }
    }
  }
  assert.equal(checked, (1 << pool.length) * 2 * hosts.length);
});

test('the cases by name', () => {
  const linux: HostFacts = { platform: 'linux', root: true, aptGet: true };
  const [modernSingle, , debian, newest] = pool as [ClickhouseProbe, ClickhouseProbe, ClickhouseProbe, ClickhouseProbe];
  assert.deepEqual(chooseClickhouse([debian], linux), { kind: 'run', program: debian }, "Debian's 18.16 alone");
  assert.deepEqual(chooseClickhouse([debian, modernSingle], linux), { kind: 'run', program: modernSingle });
  assert.deepEqual(chooseClickhouse([modernSingle, newest], linux), { kind: 'run', program: newest });
  assert.deepEqual(
    chooseClickhouse([], { platform: 'darwin', root: false, aptGet: false }),
    {
      kind: 'missing',
      message:
        'ClickHouse not found (no clickhouse or clickhouse-server on PATH); install it with `brew install --cask clickhouse` or `curl https://clickhouse.com/ | sh && sudo mv clickhouse /usr/local/bin/`, then rerun, or set CLICKHOUSE_URL to a running server',
    },
    'macOS without ClickHouse',
  );
});

test('the single binary runs as `clickhouse server`, a package server by itself', () => {
  assert.deepEqual(serverCommand({ path: '/opt/homebrew/bin/clickhouse', kind: 'single' }, '/s/config.xml'), [
    '/opt/homebrew/bin/clickhouse',
    ['server', '--config-file=/s/config.xml'],
  ]);
  assert.deepEqual(serverCommand({ path: '/usr/sbin/clickhouse-server', kind: 'server' }, '/s/config.xml'), [
    '/usr/sbin/clickhouse-server',
    ['--config-file=/s/config.xml'],
  ]);
  assert.equal(
    describeProgram({ path: '/usr/bin/clickhouse', kind: 'single', version: [24, 8, 14, 39] }),
    'ClickHouse 24.8.14.39 at /usr/bin/clickhouse',
  );
  assert.equal(
    describeProgram({ path: '/usr/sbin/clickhouse-server', kind: 'server' }),
    'ClickHouse (a release without --version) at /usr/sbin/clickhouse-server',
  );
});

test('config files are <yandex> for 18.16 and servers that tell no version, <clickhouse> from 22.1', () => {
  assert.equal(configRoot(undefined), 'yandex');
  assert.equal(configRoot([18, 16, 1]), 'yandex');
  assert.equal(configRoot([21, 8, 15, 7]), 'yandex');
  assert.equal(configRoot([22, 1]), 'clickhouse');
  assert.equal(configRoot([24, 8, 14, 39]), 'clickhouse');
  const values = { CLICKHOUSE_DB: 'market', CLICKHOUSE_WEB_PASSWORD: 'a<b&"c' };
  for (const rootElement of ['yandex', 'clickhouse'] as const) {
    const xml = webUserConfig(findProjectRoot(), values, rootElement);
    const elements = [...xml.matchAll(/<\/?(yandex|clickhouse)>/g)].map((m) => m[0]);
    assert.deepEqual(elements, [`<${rootElement}>`, `</${rootElement}>`]);
    assert.match(xml, /<password>a&lt;b&amp;&quot;c<\/password>/);
    assert.match(xml, /<database>market<\/database>/);
    assert.match(xml, /<readonly>2<\/readonly>/);
    assert.doesNotMatch(xml, /from_env/);
  }
});
