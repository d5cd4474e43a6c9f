import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from '../server/token-bucket.js';

/** How many of `count` takes at time `at` succeed. */
function takes(bucket: TokenBucket, count: number, at: number): number {
  let ok = 0;
  for (let i = 0; i < count; i++) if (bucket.take(at)) ok++;
  return ok;
}

test('a burst goes through at once, then nothing until tokens come back', () => {
  const bucket = new TokenBucket(2, 5, 0);
  assert.equal(takes(bucket, 8, 0), 5);
  assert.equal(bucket.take(100), false, '0.2 tokens after 100 ms');
  assert.equal(bucket.take(500), true, 'one token after 500 ms at 2 a second');
  assert.equal(bucket.take(500), false);
});

test('sustained, it lets through the rate and no more', () => {
  const bucket = new TokenBucket(2, 5, 0);
  takes(bucket, 5, 0);
  // A message every 50 ms for 10 s: 20 a second offered, 2 a second allowed.
  let ok = 0;
  for (let t = 50; t <= 10_000; t += 50) ok += takes(bucket, 1, t);
  assert.equal(ok, 20);
});

test('idle time refills up to the burst, not beyond', () => {
  const bucket = new TokenBucket(2, 5, 0);
  takes(bucket, 5, 0);
  assert.equal(takes(bucket, 10, 60_000), 5);
});

test('a clock going backwards adds nothing', () => {
  const bucket = new TokenBucket(1, 1, 10_000);
  assert.equal(bucket.take(10_000), true);
  assert.equal(bucket.take(5_000), false);
  assert.equal(bucket.take(10_500), false);
  assert.equal(bucket.take(11_000), true);
});
