import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  asciiBytes,
  decimalEnd,
  intEnd,
  intValue,
  levelsEnd,
  literalEnd,
  plainValueEnd,
  startsWith,
  stringEnd,
  symbolEnd,
} from '../src/json-bytes.js';

const b = asciiBytes;

test('each reader returns the index just past its value', () => {
  assert.equal(stringEnd(b('"ab"x'), 0), 4);
  assert.equal(symbolEnd(b('"BTCUSDT",'), 0), 9);
  assert.equal(decimalEnd(b('"1.50"'), 0), 6);
  assert.equal(intEnd(b('1234,'), 0), 4);
  assert.equal(intValue(b('x1234,'), 1, 5), 1234);
  assert.equal(levelsEnd(b('[["1","2"],["3.5","0"]]'), 0), 23);
  assert.equal(literalEnd(b('false}'), 0), 5);
  assert.equal(plainValueEnd(b('-1.5e3,'), 0), 6);
  assert.equal(plainValueEnd(b('null}'), 0), 4);
  assert.ok(startsWith(b('{"e":'), 0, b('{"e"')));
});

test('each reader refuses what is not its value in plain form', () => {
  assert.equal(stringEnd(b('"a\\"b"'), 0), -1);
  assert.equal(symbolEnd(b('"btcusdt"'), 0), -1);
  assert.equal(symbolEnd(b('"B"'), 0), -1);
  assert.equal(decimalEnd(b('"1."'), 0), -1);
  assert.equal(decimalEnd(b('".5"'), 0), -1);
  assert.equal(intEnd(b('01'), 0), -1);
  assert.equal(intEnd(b('1234567890123456'), 0), -1, '16 digits may pass 2^53');
  assert.equal(levelsEnd(b('[["1"]]'), 0), -1);
  assert.equal(literalEnd(b('tru'), 0), -1);
});

test('a start of -1 (an earlier mismatch) gives -1, so a scanner can chain readers without checks', () => {
  const bytes = b('"1",1,true,"AB",[]');
  for (const reader of [stringEnd, symbolEnd, decimalEnd, intEnd, levelsEnd, literalEnd, plainValueEnd]) {
    assert.equal(reader(bytes, -1), -1, reader.name);
  }
  assert.equal(startsWith(bytes, -1, b('"')), false);
  // Past the end as well.
  for (const reader of [stringEnd, symbolEnd, decimalEnd, intEnd, levelsEnd, literalEnd, plainValueEnd]) {
    assert.equal(reader(bytes, bytes.length), -1, reader.name);
  }
});
