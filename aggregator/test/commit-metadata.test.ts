import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commitMetadata, processedToOf } from '../src/kafka-consumer.js';

test('the processedTo committed with an offset reads back; anything else reads as none', () => {
  assert.equal(processedToOf(commitMetadata(0)), 0);
  assert.equal(processedToOf(commitMetadata(123_456_789)), 123_456_789);
  for (const metadata of [null, undefined, '', 'not json', '{}', '{"processedTo":-1}', '{"processedTo":"5"}', '[]']) {
    assert.equal(processedToOf(metadata), undefined, String(metadata));
  }
});
