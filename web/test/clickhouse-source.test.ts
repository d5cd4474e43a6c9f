import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isUnavailable } from '../server/clickhouse-source.js';

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

test('network failures, time-outs and a missing schema mean "unavailable"', () => {
  for (const error of [
    withCode('connect ECONNREFUSED 127.0.0.1:8123', 'ECONNREFUSED'),
    withCode('read ECONNRESET', 'ECONNRESET'),
    new Error('Timeout error.'),
    new Error('socket hang up'),
    new Error("Code: 81, e.displayText() = DB::Exception: Database market doesn't exist"),
    new Error("Code: 60, e.displayText() = DB::Exception: Table market.trade_windows doesn't exist."),
  ]) {
    assert.equal(isUnavailable(error), true, error.message);
  }
});

test('query errors are not "unavailable"', () => {
  for (const error of [
    new Error('Code: 62, e.displayText() = DB::Exception: Syntax error'),
    new Error('Code: 47, e.displayText() = DB::Exception: Unknown identifier: x'),
    new Error('something else'),
    'not an error',
  ]) {
    assert.equal(isUnavailable(error), false, String(error));
  }
});
