import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SymbolInterner } from '../src/symbol-interner.js';

/** `text` inside other bytes, as a symbol sits inside a message. */
function framed(text: string): [Buffer, number, number] {
  return [Buffer.from(`{"s":"${text}"}`, 'latin1'), 6, 6 + text.length];
}

test('the interner gives the text of the bytes, for known and new symbols alike', () => {
  const symbols = new SymbolInterner();
  for (const text of ['BTCUSDT', 'ETHUSDT', 'BTCUSDT', 'BTCUSD', 'BTCUSDTT', 'ETHUSDT']) {
    assert.equal(symbols.get(...framed(text)), text);
  }
});

test('two symbols with the same hash both read right (AN64Z and ARIHE collide in FNV-1a)', () => {
  const symbols = new SymbolInterner();
  for (const text of ['AN64Z', 'ARIHE', 'AN64Z', 'ARIHE']) assert.equal(symbols.get(...framed(text)), text);
});

test('past its capacity the interner still reads every symbol right', () => {
  const symbols = new SymbolInterner(2);
  const texts = Array.from({ length: 10 }, (_, i) => `SYM${i}USDT`);
  for (const text of [...texts, ...texts]) assert.equal(symbols.get(...framed(text)), text);
});
