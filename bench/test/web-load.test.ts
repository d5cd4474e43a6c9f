import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError } from '../src/cli-options.js';
import { parseWebLoadOptions } from '../src/web-load-options.js';
import { arrivalGaps, openFilesLimit, sourceAddresses } from '../src/web-load-stats.js';

test('web load defaults: 5,000 clients for 30 s, 40 per address, with a browser', () => {
  assert.deepEqual(parseWebLoadOptions(['--web-load']), {
    kind: 'web-load',
    clients: 5000,
    durationS: 30,
    symbols: 3,
    flooders: 4,
    probes: 6,
    perAddress: 40,
    rangeReaders: 2,
    browser: true,
    serverEnv: {},
    outDir: 'bench/results',
  });
});

test('web load options are bounded, and --env only takes web settings', () => {
  const custom = parseWebLoadOptions([
    '--web-load',
    '--clients',
    '200',
    '--duration',
    '10',
    '--no-browser',
    '--env',
    'WEB_WS_MAX_PER_IP=500',
  ]);
  assert.ok(custom.kind === 'web-load');
  assert.deepEqual(
    [custom.clients, custom.durationS, custom.browser, custom.serverEnv],
    [200, 10, false, { WEB_WS_MAX_PER_IP: '500' }],
  );
  assert.deepEqual(parseWebLoadOptions(['--web-load', '--help']), { kind: 'help' });
  for (const args of [
    ['--clients', '20001'],
    ['--clients', '0'],
    ['--duration', '301'],
    ['--duration', 'long'],
    ['--flooders', '51'],
    ['--env', 'KAFKA_BROKERS=x:1'],
    ['--steps', '1k'],
  ]) {
    assert.throws(() => parseWebLoadOptions(['--web-load', ...args]), CliError, args.join(' '));
  }
});

test('source addresses: perAddress clients each, from 127.<base>.0.1 on', () => {
  const addresses = sourceAddresses(7, 3, 1);
  assert.deepEqual(addresses, [
    '127.1.0.1',
    '127.1.0.1',
    '127.1.0.1',
    '127.1.0.2',
    '127.1.0.2',
    '127.1.0.2',
    '127.1.0.3',
  ]);
  const many = sourceAddresses(20_000, 40, 2);
  assert.equal(new Set(many).size, 500);
  assert.equal(many.at(-1), '127.2.1.244');
  assert.ok(many.every((a) => /^127\.2\.\d{1,3}\.\d{1,3}$/.test(a) && !a.endsWith('.0.0')));
});

test('arrival gaps are pooled over clients and kept to the measured span', () => {
  const gaps = arrivalGaps(
    [
      [0, 1000, 2000, 3500],
      [500, 1500, 2500],
      [100], // one arrival: no gap
    ],
    1200,
    3000,
  );
  // Gaps ending in [1200, 3000]: 2000-1000, 1500-500, 2500-1500.
  assert.deepEqual(gaps, { count: 3, p50: 1000, p99: 1000, max: 1000 });
  assert.equal(arrivalGaps([[0, 1000, 3000]], 0, 10_000).max, 2000);
  assert.equal(arrivalGaps([], 0, 1).count, 0);
});

test('the open files limit is read from /proc/self/limits', () => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units',
    'Max processes             95541                95541                processes',
    'Max open files            20000                40000                files',
  ].join('\n');
  assert.equal(openFilesLimit(text), 20_000);
  assert.equal(openFilesLimit(text.replace('20000  ', 'unlimited')), undefined);
  assert.equal(openFilesLimit(''), undefined);
});
