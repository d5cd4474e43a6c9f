import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { runWebLoad } from '../src/web-load.js';
import { parseWebLoadOptions } from '../src/web-load-options.js';

test(
  'a small web load step: every client held, pushes every second, the limits hold',
  { timeout: 300_000 },
  async () => {
    const outDir = mkdtempSync(path.join(tmpdir(), 'bench-web-load-'));
    const said: string[] = [];
    try {
      const options = parseWebLoadOptions([
        '--web-load',
        '--clients',
        '300',
        '--duration',
        '6',
        '--flooders',
        '2',
        '--range-readers',
        '1',
        '--no-browser',
        '--out',
        outDir,
      ]);
      assert.equal(options.kind, 'web-load');
      if (options.kind !== 'web-load') return;
      const results = await runWebLoad(options, (line) => said.push(line));
      const context = JSON.stringify({ results, said }, null, 1);
      assert.equal(results.clients.held, 300, context);
      assert.deepEqual([results.clients.refused, results.clients.closed], [{}, {}], context);
      // The crowd, the probes, the address at its limit (50 of the 60 it tried), and the
      // flooders connected at that instant.
      const steady = 300 + options.probes + 50;
      assert.ok(results.clients.serverGauge >= steady && results.clients.serverGauge <= steady + 2, context);
      assert.deepEqual(results.perIp, { attempted: 60, accepted: 50, refused429: 10 }, context);
      assert.ok(results.probes.count >= options.probes * 3, context);
      assert.ok(results.probes.p50 > 800 && results.probes.p50 < 1200, context);
      assert.ok(results.flood.closedByServer1008 >= 2, context);
      // A flooder stopped at the end may not see the close the server already counted.
      assert.ok(results.flood.serverRateLimitDisconnects >= results.flood.closedByServer1008, context);
      assert.ok(results.ranges.ok > 0 && results.ranges.meanWireKiB < results.ranges.meanJsonKiB / 2, context);
      assert.ok(results.server.rssPeakMiB > 0 && results.server.cpuPercent > 0, context);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  },
);
