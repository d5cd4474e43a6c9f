import assert from 'node:assert/strict';
import { test } from 'node:test';
import { clientAddress, groupBySymbol } from '../server/live-hub.js';

test('groups subscribers by symbol in arrival order, leaving out the unsubscribed and the excluded', () => {
  const subs = [
    { id: 1, symbol: 'BTCUSDT' },
    { id: 2, symbol: undefined },
    { id: 3, symbol: 'ETHUSDT' },
    { id: 4, symbol: 'BTCUSDT' },
    { id: 5, symbol: 'BTCUSDT' },
    { id: 6, symbol: 'ETHUSDT' },
  ];
  const groups = groupBySymbol(subs, (s) => s.id !== 5);
  assert.deepEqual(
    [...groups].map(([symbol, members]) => [symbol, members.map((m) => m.id)]),
    [
      ['BTCUSDT', [1, 4]],
      ['ETHUSDT', [3, 6]],
    ],
  );
});

test('grouping is linear: 200,000 subscribers of one symbol keep the same objects, quickly', () => {
  const subs = Array.from({ length: 200_000 }, (_, id) => ({ id, symbol: id % 10 === 0 ? 'ETHUSDT' : 'BTCUSDT' }));
  const started = performance.now();
  const groups = groupBySymbol(subs, () => true);
  const ms = performance.now() - started;
  assert.equal(groups.get('BTCUSDT')?.length, 180_000);
  assert.equal(groups.get('ETHUSDT')?.length, 20_000);
  assert.equal(groups.get('BTCUSDT')?.[0], subs[1]);
  // Copying the array per subscriber (the quadratic way) takes minutes at this size.
  assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
});

test('an IPv4 client is one address whether it arrives over IPv4 or IPv6', () => {
  assert.equal(clientAddress('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(clientAddress('127.0.0.1'), '127.0.0.1');
  assert.equal(clientAddress('::1'), '::1');
  assert.equal(clientAddress(undefined), 'unknown');
});
