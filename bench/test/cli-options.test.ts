import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError, parseBenchOptions } from '../src/cli-options.js';

test('defaults: six steps of 60 s, more symbols at higher rates, every peer', () => {
  const options = parseBenchOptions([]);
  assert.equal(options.kind, 'macro');
  if (options.kind !== 'macro') return;
  assert.deepEqual(
    options.steps.map((s) => [s.rate, s.symbols, s.durationS]),
    [
      [1000, 50, 60],
      [5000, 100, 60],
      [10000, 200, 60],
      [20000, 200, 60],
      [50000, 400, 60],
      [100000, 400, 60],
    ],
  );
  assert.deepEqual(options.peers, ['kafka-engine', 'kafka-engine-windows-only', 'naive']);
  assert.equal(options.compression, 'lz4');
  assert.equal(options.producerOnly, false);
});

test('--quick, --steps with k suffixes, --symbols, --duration, --peers', () => {
  const quick = parseBenchOptions(['--quick']);
  assert.ok(quick.kind === 'macro' && quick.steps.length === 2 && quick.steps[0]?.durationS === 15);
  const custom = parseBenchOptions([
    '--steps',
    '2k,7.5k,300',
    '--symbols',
    '20',
    '--duration',
    '30',
    '--peers',
    'naive',
  ]);
  assert.ok(custom.kind === 'macro');
  if (custom.kind !== 'macro') return;
  assert.deepEqual(
    custom.steps.map((s) => [s.rate, s.symbols, s.durationS]),
    [
      [2000, 20, 30],
      [7500, 20, 30],
      [300, 20, 30],
    ],
  );
  assert.deepEqual(custom.peers, ['naive']);
  const none = parseBenchOptions(['--peers', 'none']);
  assert.deepEqual(none.kind === 'macro' ? none.peers : 'not macro', []);
  assert.deepEqual(parseBenchOptions(['--micro', '--quick']), { kind: 'micro', quick: true });
});

test('bad flags name themselves', () => {
  assert.throws(
    () => parseBenchOptions(['--steps', 'fast']),
    (e: unknown) => e instanceof CliError && /--steps/.test(e.message),
  );
  assert.throws(() => parseBenchOptions(['--duration', '5']), /--duration: expected seconds, at least 10/);
  assert.throws(
    () => parseBenchOptions(['--steps', '100', '--symbols', '50']),
    /--symbols: 50 symbols need at least 500/,
  );
  assert.throws(() => parseBenchOptions(['--peers', 'kafka']), /--peers/);
  assert.throws(() => parseBenchOptions(['--compression', 'brotli']), /--compression/);
  assert.throws(() => parseBenchOptions(['--micro', '--steps', '1k']), /--steps does not apply to --micro/);
  assert.throws(() => parseBenchOptions(['--warmup', '20', '--duration', '15']), /--warmup/);
  assert.throws(() => parseBenchOptions(['--bogus']), CliError);
  assert.throws(
    () => parseBenchOptions(['--producer-only', '--peers', 'naive']),
    /--peers does not apply to --producer-only/,
  );
  assert.throws(
    () => parseBenchOptions(['--producer-only', '--catchup-seconds', '5']),
    /--catchup-seconds does not apply to --producer-only/,
  );
  assert.throws(() => parseBenchOptions(['--micro', '--producer-only']), /--producer-only does not apply to --micro/);
});

test('--producer-only: the steps given, no peers', () => {
  const options = parseBenchOptions(['--producer-only', '--steps', '50k,100k', '--duration', '20']);
  assert.ok(options.kind === 'macro');
  if (options.kind !== 'macro') return;
  assert.equal(options.producerOnly, true);
  assert.deepEqual(
    options.steps.map((s) => [s.rate, s.symbols, s.durationS]),
    [
      [50000, 400, 20],
      [100000, 400, 20],
    ],
  );
  assert.deepEqual(options.peers, []);
  const windowsOnly = parseBenchOptions(['--peers', 'kafka-engine-windows-only']);
  assert.deepEqual(windowsOnly.kind === 'macro' ? windowsOnly.peers : 'not macro', ['kafka-engine-windows-only']);
});
