import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, retry } from '@candleflow/common/retry';

const options = { minMs: 1000, maxMs: 30_000 };

test('backoff doubles per attempt up to the maximum, with half of it random', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, options, () => 0)),
    [500, 1000, 2000, 4000, 8000, 15_000, 15_000],
  );
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, options, () => 1)),
    [1000, 2000, 4000, 8000, 16_000, 30_000, 30_000],
  );
  assert.equal(
    backoffDelay(3, options, () => 0.5),
    3000,
  );
});

test('huge attempt numbers stay at the maximum', () => {
  assert.equal(
    backoffDelay(10_000, options, () => 1),
    30_000,
  );
});

test('retry runs until an attempt succeeds, telling of each failure with the wait before the next', async () => {
  const told: [string, number, number][] = [];
  let calls = 0;
  const value = await retry(
    async (attempt) => {
      calls++;
      if (attempt < 4) throw new Error(`failure ${attempt}`);
      return 'done';
    },
    { minMs: 1, maxMs: 4, onRetry: (error, attempt, delayMs) => told.push([error.message, attempt, delayMs]) },
  );
  assert.equal(value, 'done');
  assert.equal(calls, 4);
  assert.deepEqual(told, [
    ['failure 1', 1, 1],
    ['failure 2', 2, 2],
    ['failure 3', 3, 4],
  ]);
});

test('a failure that is not retryable is rethrown at once', async () => {
  let calls = 0;
  const refused = new Error('refused for its content');
  await assert.rejects(
    retry(
      async () => {
        calls++;
        throw refused;
      },
      { minMs: 1, maxMs: 1, retryable: (error) => error !== refused },
    ),
    (error) => error === refused,
  );
  assert.equal(calls, 1);
});

test("aborting stops the retries during the wait, with the signal's reason", async () => {
  const controller = new AbortController();
  const reason = new Error('closing');
  let calls = 0;
  const running = retry(
    async () => {
      calls++;
      if (calls === 2) controller.abort(reason);
      throw new Error('unreachable server');
    },
    { minMs: 5, maxMs: 5, signal: controller.signal },
  );
  await assert.rejects(running, (error) => error === reason);
  assert.equal(calls, 2);
});
