import assert from 'node:assert/strict';
import { test } from 'node:test';
import { moduleOf, summarizeProfile } from '../src/cpu-profile.js';

const root = '/repo';

test('frames are grouped by package, project file, built-in or V8 entry', () => {
  assert.equal(moduleOf('file:///repo/node_modules/kafkajs/src/protocol/decoder.js', root), 'kafkajs');
  assert.equal(moduleOf('file:///repo/node_modules/@clickhouse/client/dist/x.js', root), '@clickhouse/client');
  assert.equal(moduleOf('file:///repo/aggregator/src/exact-decimal.ts', root), 'aggregator/src/exact-decimal.ts');
  assert.equal(moduleOf('node:internal/streams/readable', root), 'node (built-in)');
  assert.equal(moduleOf('', root, '(garbage collector)'), '(garbage collector)');
  assert.equal(moduleOf('', root, 'writev'), '(native)');
});

test('self time per module and function, from the samples', () => {
  const node = (id: number, functionName: string, url: string, lineNumber = 0) => ({
    id,
    callFrame: { functionName, url, lineNumber, scriptId: '0', columnNumber: 0 },
  });
  const profile = {
    nodes: [
      node(1, '(root)', ''),
      node(2, 'parse', 'file:///repo/aggregator/src/exact-decimal.ts', 9),
      node(3, 'decode', 'file:///repo/node_modules/kafkajs/src/decoder.js', 41),
      node(4, '(idle)', ''),
      node(5, 'toString', 'file:///repo/aggregator/src/exact-decimal.ts', 80),
    ],
    startTime: 0,
    endTime: 2_000_000,
    samples: [2, 2, 2, 2, 4, 4, 4, 3, 3, 5],
  };
  const summary = summarizeProfile(JSON.stringify(profile), 'p.cpuprofile', root, 3);
  assert.equal(summary.seconds, 2);
  assert.deepEqual(summary.byModule, [
    { name: 'aggregator/src/exact-decimal.ts', selfPercent: 50 },
    { name: '(idle)', selfPercent: 30 },
    { name: 'kafkajs', selfPercent: 20 },
  ]);
  assert.deepEqual(summary.byFunction, [
    { name: 'parse aggregator/src/exact-decimal.ts:10', selfPercent: 40 },
    { name: '(idle)', selfPercent: 30 },
    { name: 'decode kafkajs:42', selfPercent: 20 },
  ]);
  assert.throws(() => summarizeProfile('{"nodes": 3}', 'bad', root));
});
