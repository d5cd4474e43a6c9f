import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DLQ_TRUNCATED_HEADER, fitValue, messageDeadLetter } from '../src/dead-letters.js';
import { inRequests } from '../src/dlq-publisher.js';

const letter = (offset: number, bytes: number) =>
  messageDeadLetter(
    { topic: 't', partition: 0, offset, value: Buffer.alloc(bytes, 120), headers: undefined },
    'not_json',
    'x',
    900_000,
  );

test('a value cut twice keeps the size of the original in its header', () => {
  const headers: Record<string, string | Buffer> = {};
  const once = fitValue(Buffer.alloc(1_000_000), 900_000, headers);
  assert.equal(once?.length, 900_000);
  const twice = fitValue(once, 1024, headers);
  assert.equal(twice?.length, 1024);
  assert.equal(headers[DLQ_TRUNCATED_HEADER], '1000000');
});

test('dead letters go in requests no larger than one letter at the limit, in order', () => {
  const letters = [letter(1, 10), letter(2, 1_000_000), letter(3, 600_000), letter(4, 10), letter(5, 10)];
  const requests = inRequests(letters, 900_000);
  assert.deepEqual(
    requests.map((r) => r.map((l) => String(l.headers.dlq_source_offset))),
    [['1'], ['2'], ['3', '4', '5']],
  );
  assert.deepEqual(inRequests([], 900_000), []);
});
