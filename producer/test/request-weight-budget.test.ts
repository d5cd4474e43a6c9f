import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestWeightBudget } from '../src/request-weight-budget.js';

const minute = 60_000;
const start = 100 * minute;

test('spends up to the per-minute weight, then waits for the next minute', () => {
  const budget = new RequestWeightBudget(120);
  assert.equal(budget.take(50, start + 1000), 0);
  assert.equal(budget.take(50, start + 2000), 0);
  assert.equal(budget.take(50, start + 3000), minute - 3000);
  assert.equal(budget.take(50, start + minute), 0);
});

test('a request heavier than the whole budget still goes once per minute', () => {
  const budget = new RequestWeightBudget(10);
  assert.equal(budget.take(50, start), 0);
  assert.equal(budget.take(50, start + 10), minute - 10);
});

test('the weight the server reports counts', () => {
  const budget = new RequestWeightBudget(3000);
  budget.observeUsed(2990, start + 5000);
  assert.equal(budget.take(50, start + 6000), minute - 6000);
});

test('after 429/418 nothing goes until the time asked for, even in a new minute', () => {
  const budget = new RequestWeightBudget(3000);
  budget.block(start + 2 * minute + 5000);
  assert.equal(budget.take(50, start), 2 * minute + 5000);
  assert.equal(budget.take(50, start + 2 * minute), 5000);
  assert.equal(budget.take(50, start + 2 * minute + 5000), 0);
});
