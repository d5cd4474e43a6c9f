import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestWeightLimiter } from '../src/request-weight.js';

/** The start of a clock minute. */
const MINUTE = 28_333_333 * 60_000;

test('weight adds up per clock minute; over the limit, refused until the minute ends', () => {
  const limiter = new RequestWeightLimiter(100);
  assert.deepEqual(limiter.spend(60, MINUTE), { used: 60 });
  assert.deepEqual(limiter.spend(40, MINUTE + 1_000), { used: 100 }, 'exactly the limit is allowed');
  assert.deepEqual(limiter.spend(1, MINUTE + 1_500), { used: 101, retryAfterS: 59 });
  assert.deepEqual(limiter.spend(1, MINUTE + 59_999), { used: 102, retryAfterS: 1 }, 'refused requests count too');
  assert.deepEqual(limiter.spend(25, MINUTE + 60_000), { used: 25 }, 'a new minute starts from zero');
});

test('the limit is a positive integer, 6000 by default as on Binance', () => {
  assert.equal(new RequestWeightLimiter().perMinute, 6000);
  assert.throws(() => new RequestWeightLimiter(0), /invalid weight per minute 0/);
});
