import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WindowTimeline } from '../src/window-timeline.js';

test('a trade is readable from the first poll whose row reaches its id', () => {
  const timeline = new WindowTimeline();
  timeline.observe('BTCUSDT', 0, 5, false, 1000);
  timeline.observe('BTCUSDT', 0, 5, false, 1200);
  timeline.observe('BTCUSDT', 0, 9, false, 1400);
  timeline.observe('BTCUSDT', 0, 12, true, 1600);
  timeline.observe('BTCUSDT', 0, 12, true, 1800);
  assert.equal(timeline.firstReadable('BTCUSDT', 0, 1), 1000);
  assert.equal(timeline.firstReadable('BTCUSDT', 0, 5), 1000);
  assert.equal(timeline.firstReadable('BTCUSDT', 0, 6), 1400);
  assert.equal(timeline.firstReadable('BTCUSDT', 0, 12), 1600);
  assert.equal(timeline.firstReadable('BTCUSDT', 0, 13), undefined);
  assert.equal(timeline.finalAt('BTCUSDT', 0), 1600);
});

test('windows are kept apart by symbol and start; a lower id seen later changes nothing', () => {
  const timeline = new WindowTimeline();
  timeline.observe('BTCUSDT', 0, 5, false, 1000);
  timeline.observe('BTCUSDT', 10_000, 20, false, 1000);
  timeline.observe('ETHUSDT', 0, 7, false, 2000);
  timeline.observe('BTCUSDT', 0, 3, false, 3000);
  assert.equal(timeline.size, 3);
  assert.equal(timeline.firstReadable('BTCUSDT', 0, 6), undefined);
  assert.equal(timeline.firstReadable('ETHUSDT', 0, 6), 2000);
  assert.equal(timeline.firstReadable('SOLUSDT', 0, 1), undefined);
  assert.equal(timeline.finalAt('BTCUSDT', 0), undefined);
});
