import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveWindowRange } from '../server/http-app.js';
import { BadRequestError } from '../server/request-params.js';

const latest = Date.UTC(2024, 4, 1, 12, 0, 0);
const now = Date.UTC(2024, 4, 2);
const min = 60_000;
const windowMs = 10_000;

test('no from, no to: the 15 minutes ending with the latest window', () => {
  assert.deepEqual(resolveWindowRange({ symbol: 'X' }, latest, now, windowMs), {
    from: latest + 10_000 - 15 * min,
    to: latest + 10_000,
  });
});

test('no data yet: the 15 minutes ending now', () => {
  assert.deepEqual(resolveWindowRange({ symbol: 'X' }, undefined, now, windowMs), { from: now - 15 * min, to: now });
});

test('only from: up to the latest window', () => {
  assert.deepEqual(resolveWindowRange({ symbol: 'X', from: latest - 6 * 60 * min }, latest, now, windowMs), {
    from: latest - 6 * 60 * min,
    to: latest + 10_000,
  });
});

test('only from, far before the data: at most 7 days', () => {
  const from = latest - 30 * 24 * 60 * min;
  assert.deepEqual(resolveWindowRange({ symbol: 'X', from }, latest, now, windowMs), {
    from,
    to: from + 7 * 24 * 60 * min,
  });
});

test('only from, after the latest window: 15 minutes from there', () => {
  const from = latest + 60 * min;
  assert.deepEqual(resolveWindowRange({ symbol: 'X', from }, latest, now, windowMs), { from, to: from + 15 * min });
});

test('only to: the 15 minutes before it', () => {
  assert.deepEqual(resolveWindowRange({ symbol: 'X', to: latest }, undefined, now, windowMs), {
    from: latest - 15 * min,
    to: latest,
  });
});

test('both, exactly as given; empty, reversed or longer than 7 days is refused', () => {
  assert.deepEqual(resolveWindowRange({ symbol: 'X', from: 1, to: 2 }, latest, now, windowMs), { from: 1, to: 2 });
  assert.throws(() => resolveWindowRange({ symbol: 'X', from: 5, to: 5 }, latest, now, windowMs), BadRequestError);
  assert.throws(
    () => resolveWindowRange({ symbol: 'X', from: 5, to: 4 }, latest, now, windowMs),
    /^BadRequestError: to: /,
  );
  assert.throws(
    () => resolveWindowRange({ symbol: 'X', from: 0, to: 7 * 24 * 60 * min + 1 }, latest, now, windowMs),
    /from: the range may span at most 7 days/,
  );
});
