import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PacingClock, SLOT_MS, SyntheticFeed } from '../src/synthetic-feed.js';

function eventsBefore(feed: SyntheticFeed, untilMs: number): number[] {
  const events: number[] = [];
  while (feed.nextEventTime() < untilMs) {
    events.push(feed.peek());
    feed.advance();
  }
  return events;
}

test('a second of virtual time holds exactly `rate` events, one diff per symbol per 100 ms', () => {
  const feed = new SyntheticFeed({ symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], rate: 1000, seed: 1 });
  const events = eventsBefore(feed, 1000);
  assert.equal(events.length, 1000);
  for (let slot = 0; slot < 10; slot++) {
    const slotEvents = events.slice(slot * 100, slot * 100 + 100);
    assert.deepEqual(
      slotEvents.filter((e) => e < 0),
      [-1, -2, -3],
      `slot ${slot}: each symbol's diff once, in symbol order`,
    );
    assert.ok(slotEvents.every((e) => e < 3));
  }
  const trades = events.filter((e) => e >= 0);
  for (let i = 0; i < 3; i++) assert.ok(trades.filter((e) => e === i).length > 50, `symbol ${i} trades`);
});

test('fractional rates carry over between slots', () => {
  const feed = new SyntheticFeed({ symbols: ['BTCUSDT'], rate: 15, seed: 1 });
  assert.equal(eventsBefore(feed, 10_000).length, 150);
});

test('a rate below the depth cadence still sends every diff, and no trades', () => {
  const feed = new SyntheticFeed({ symbols: ['AUSDT', 'BUSDT', 'CUSDT', 'DUSDT'], rate: 20, seed: 1 });
  const events = eventsBefore(feed, 1000);
  assert.equal(events.length, 40);
  assert.ok(events.every((e) => e < 0));
});

test('events are spread evenly over each slot, diffs in the middle of their share', () => {
  const feed = new SyntheticFeed({ symbols: ['BTCUSDT', 'ETHUSDT'], rate: 200, seed: 1 });
  const times: number[] = [];
  for (let i = 0; i < 40; i++) {
    times.push(feed.nextEventTime());
    feed.advance();
  }
  times.forEach((t, i) => assert.ok(Math.abs(t - i * (SLOT_MS / 20)) < 1e-9, `event ${i} at ${t}`));
});

test('the plan depends only on the seed', () => {
  const plan = (seed: number): number[] =>
    eventsBefore(new SyntheticFeed({ symbols: ['BTCUSDT', 'ETHUSDT', 'XRPUSDT'], rate: 5000, seed }), 5000);
  assert.deepEqual(plan(11), plan(11));
  assert.notDeepEqual(plan(11), plan(12));
});

test('level changes per diff grow with the trade rate', () => {
  const quiet = new SyntheticFeed({ symbols: ['BTCUSDT'], rate: 50 });
  const busy = new SyntheticFeed({ symbols: ['BTCUSDT'], rate: 100_000 });
  assert.ok(busy.changesPerDiff > quiet.changesPerDiff * 10);
  assert.ok(busy.changesPerDiff <= 200);
});

test('the pacing clock follows the wall clock, stands still while held, and caps the lag', () => {
  const clock = new PacingClock(1000, 100);
  assert.equal(clock.tick(1010, false, 0), 10);
  assert.equal(clock.tick(1050, true, 10), 10, 'held: no time passes');
  assert.equal(clock.tick(1070, false, 10), 30, 'only the unheld 20 ms count');
  assert.equal(clock.tick(2000, false, 30), 130, 'a long stall catches up at most 100 ms ahead of what was sent');
  assert.equal(clock.tick(1990, false, 130), 130, 'a wall clock going backwards does not rewind');
});

test('symbols and rate are checked', () => {
  assert.throws(() => new SyntheticFeed({ symbols: [], rate: 10 }), /at least one symbol/);
  assert.throws(() => new SyntheticFeed({ symbols: ['btcusdt'], rate: 10 }), /invalid symbol "btcusdt"/);
  assert.throws(() => new SyntheticFeed({ symbols: ['BTCUSDT'], rate: Number.NaN }), /invalid rate/);
});
