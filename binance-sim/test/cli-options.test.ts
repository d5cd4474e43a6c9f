import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError, DEFAULT_PORT, DEFAULT_SYMBOLS, parseCliOptions } from '../src/cli-options.js';

test('no flags: synthetic BTC/ETH/SOL at 200 frames/s on 127.0.0.1:9443', () => {
  assert.deepEqual(parseCliOptions([]), {
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    source: { kind: 'synthetic', symbols: DEFAULT_SYMBOLS, rate: 200, seed: 1 },
  });
});

test('synthetic flags: symbol list, symbol count, rate, seed, host, port', () => {
  assert.deepEqual(parseCliOptions(['--synthetic', '--symbols', 'btcusdt,ETHUSDT', '--rate', '5000', '--seed', '7']), {
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    source: { kind: 'synthetic', symbols: ['BTCUSDT', 'ETHUSDT'], rate: 5000, seed: 7 },
  });
  const fifty = parseCliOptions(['--symbols', '50', '--host', '0.0.0.0', '--port', '0']);
  assert.ok(fifty !== 'help' && fifty.source.kind === 'synthetic');
  assert.equal(fifty.source.symbols.length, 50);
  assert.equal(new Set(fifty.source.symbols).size, 50);
  assert.ok(fifty.source.symbols.every((s) => /^[A-Z0-9]+USDT$/.test(s)));
  assert.equal(fifty.source.rate, 750, 'the default rate leaves room for trades beside 50 depth streams');
  assert.equal(fifty.host, '0.0.0.0');
  assert.equal(fifty.port, 0);
});

test('replay flags', () => {
  assert.deepEqual(parseCliOptions(['--replay', 'a.ndjson', '--speed', 'max', '--loop']), {
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    source: { kind: 'replay', file: 'a.ndjson', speed: 'max', loop: true },
  });
  const ten = parseCliOptions(['--replay', 'a.ndjson', '--speed', '10']);
  assert.ok(ten !== 'help' && ten.source.kind === 'replay' && ten.source.speed === 10 && ten.source.loop === false);
});

test('REST limits: trade retention and request weight per minute, for either source', () => {
  assert.deepEqual(parseCliOptions(['--trade-retention', '5000', '--weight-per-minute', '1200']), {
    host: '127.0.0.1',
    port: DEFAULT_PORT,
    tradeRetention: 5000,
    weightPerMinute: 1200,
    source: { kind: 'synthetic', symbols: DEFAULT_SYMBOLS, rate: 200, seed: 1 },
  });
  const replay = parseCliOptions(['--replay', 'a.ndjson', '--trade-retention', '10']);
  assert.ok(replay !== 'help' && replay.source.kind === 'replay' && replay.tradeRetention === 10);
});

test('bad flags fail with a message naming the flag', () => {
  const cases: [string[], RegExp][] = [
    [['--rate', 'fast'], /--rate/],
    [['--rate', '0'], /--rate/],
    [['--port', '70000'], /--port/],
    [['--symbols', 'BTC-USDT'], /--symbols/],
    [['--speed', '2', '--replay', 'x'], /--speed/],
    [['--speed', 'max'], /--speed needs --replay/],
    [['--replay', 'x', '--rate', '10'], /--rate cannot be combined with --replay/],
    [['--bogus'], /--bogus/],
    [['--port'], /--port/],
    [['--trade-retention', '0'], /--trade-retention/],
    [['--weight-per-minute', 'lots'], /--weight-per-minute/],
  ];
  for (const [argv, message] of cases) {
    assert.throws(
      () => parseCliOptions(argv),
      (e: unknown) => e instanceof CliError && message.test(e.message),
      argv.join(' '),
    );
  }
});

test('--help', () => {
  assert.equal(parseCliOptions(['--help']), 'help');
});
