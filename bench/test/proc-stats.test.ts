import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStatTicks, parseStatusRss, readProcess, readThreadTicks } from '../src/proc-stats.js';

test('utime + stime from a stat line whose command name has spaces and parentheses', () => {
  const line =
    '7767 (clickhouse-serv (x)) S 1 7767 7767 0 -1 4194560 123 0 0 0 4512 731 0 0 20 0 57 0 1234 2000000 40000 ' +
    '18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0';
  assert.equal(parseStatTicks(line), 4512 + 731);
  assert.throws(() => parseStatTicks('garbage'), /not a \/proc stat line/);
});

test('VmRSS in bytes', () => {
  assert.equal(parseStatusRss('Name:\tjava\nVmPeak:\t 999 kB\nVmRSS:\t  462280 kB\nThreads:\t80\n'), 462280 * 1024);
  assert.throws(() => parseStatusRss('Name:\tzombie\n'), /VmRSS/);
});

test('this very process can be read, threads by name', () => {
  const sample = readProcess(process.pid);
  assert.ok(sample && sample.rssBytes > 0 && sample.cpuTicks >= 0);
  const threads = readThreadTicks(process.pid);
  assert.ok(threads.size > 0);
  assert.equal(readProcess(2 ** 22 + 1), undefined);
});
