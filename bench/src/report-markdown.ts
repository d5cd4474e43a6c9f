import type { Distribution } from './percentiles.js';
import type { CatchUpFigures, ProducerOnlyResult, RunResults, StepResult } from './results.js';
import { STEADY_SHARE } from './rate-trend.js';
import { checkTargets } from './targets.js';
import type { WindowComparison } from './window-compare.js';

const int = (n: number): string => Math.round(n).toLocaleString('en-US');
const sec = (ms: number): string => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '∞');
const mib = (bytes: number): string => `${Math.round(bytes / 1024 ** 2)}`;

function pair(d: Distribution | undefined): string {
  if (!d || d.count === 0) return '–';
  return `${sec(d.p50)} / ${sec(d.p99)}${d.missing > 0 ? ` (${d.missing} never)` : ''}`;
}

function ratio(own: number, peer: number | undefined): string {
  if (peer === undefined || peer === 0 || own === 0) return '–';
  const r = own / peer;
  return `x${r >= 10 ? r.toFixed(0) : r >= 1 ? r.toFixed(1) : r.toPrecision(2)}`;
}

function windowsCell(c: (WindowComparison & { naiveTrades?: number }) | null): string {
  if (!c) return '–';
  if (c.compared === 0) return 'none to compare';
  const same = c.compared === c.equal && c.extra === 0;
  const text = `${c.equal}/${c.compared} equal`;
  return same ? text : `**${text}**, ${c.missing} missing, ${c.different} differ, ${c.extra} extra`;
}

function cpu(step: Pick<StepResult, 'processes'>, name: string): string {
  const p = step.processes[name];
  return p ? `${Math.round(p.cpuPercent)}` : '–';
}

function stepRow(s: StepResult): string {
  const p = s.latency.project;
  return (
    `| ${int(s.plan.rate)} | ${s.plan.symbols} | ${int(s.input.simRate)} | ${int(s.input.processedRate)} | ` +
    `${s.input.sustained ? 'yes' : '**no**'} | ${int(s.input.processedLag.slopePerS)} | ${pair(p.open)} | ` +
    `${pair(p.finalAfterClose)} | ${cpu(s, 'sim')} / ${cpu(s, 'producer')} / ${cpu(s, 'aggregator')} / ` +
    `${cpu(s, 'kafka')} / ${cpu(s, 'clickhouse')} | ${mib(s.stackRssBytes)} | ` +
    `${int(s.input.tradesDropped)} / ${int(s.input.tradesUnrepairable)} | ${s.loadAverage.toFixed(2)} |`
  );
}

function catchUpCell(own: CatchUpFigures, peer: CatchUpFigures, key: 'rate' | 'msgsPerCpuSecond'): string {
  if (peer.status === 'off') return '–';
  if (peer.status === 'error') return 'error (see notes)';
  return peer === own ? int(own[key]) : `${int(peer[key])} (${ratio(own[key], peer[key])})`;
}

function rawTradesCell(t: StepResult['windows']['kafkaEngineTrades']): string {
  if (!t) return '';
  return t.equal
    ? '; raw trades equal'
    : `; **raw trades differ** (${int(t.kafkaEngine)} rows against ${int(t.project)})`;
}

function peerRow(s: StepResult): string {
  const { project, kafkaEngine, kafkaEngineWindowsOnly, naive } = s.catchUp;
  const peers = [kafkaEngine, kafkaEngineWindowsOnly, naive];
  const engineLatency = s.latency.kafkaEngine;
  const latencyRatio = engineLatency ? ` (${ratio(engineLatency.open.p99, s.latency.project.open.p99)})` : '';
  return (
    `| ${int(s.plan.rate)} | ${int(s.input.tradesInKafka)} | ` +
    [project, ...peers].map((peer) => catchUpCell(project, peer, 'rate')).join(' | ') +
    ' | ' +
    [project, ...peers].map((peer) => catchUpCell(project, peer, 'msgsPerCpuSecond')).join(' | ') +
    ` | ${pair(engineLatency?.open)}${latencyRatio} | ${pair(engineLatency?.completeAfterClose)} | ` +
    `${windowsCell(s.windows.kafkaEngine)}${rawTradesCell(s.windows.kafkaEngineTrades)} | ` +
    `${windowsCell(s.windows.kafkaEngineWindowsOnly)} | ${windowsCell(s.windows.naive)} |`
  );
}

/** The Spark peer beside the project: catch-up, memory, its own latency, its windows. */
function sparkRow(s: StepResult): string {
  const { project, spark } = s.catchUp;
  if (!spark) return '';
  const ok = spark.status === 'ok';
  const rss = spark.maxRssBytes;
  const aggregatorRss = s.processes.aggregator?.maxRssBytes;
  return (
    `| ${int(s.plan.rate)} | ${int(s.input.tradesInKafka)} | ${catchUpCell(project, project, 'rate')} | ` +
    `${catchUpCell(project, spark, 'rate')} | ${catchUpCell(project, project, 'msgsPerCpuSecond')} | ` +
    `${catchUpCell(project, spark, 'msgsPerCpuSecond')} | ${aggregatorRss ? mib(aggregatorRss) : '–'} | ` +
    `${ok && rss ? mib(rss) : '–'} | ${pair(spark.probeLatency?.finalAfterClose)} | ` +
    `${pair(spark.probeLatency?.finalFromTrade)} | ${windowsCell(s.windows.spark ?? null)} |`
  );
}

function producerRow(s: ProducerOnlyResult): string {
  const producer = s.processes.producer;
  const t = s.kafkaTrend;
  return (
    `| ${int(s.plan.rate)} | ${s.plan.symbols} | ${int(s.input.simRate)} | ${int(s.input.kafkaRate)} | ` +
    `${int(t.ceiling)} / ${Math.round(t.endShareOfCeiling * 100)} % / ${int(t.slopePerS)} | ${s.saturation} | ` +
    `${int(s.input.tradesDropped)} / ${int(s.input.tradesUnrepairable)} | ` +
    `${int(s.input.simTrades)} / ${int(s.input.tradesInKafka)} | ${int(s.input.simDepth)} / ${int(s.input.depthInKafka)} | ` +
    `${producer ? Math.round(producer.cpuPercent) : '–'} | ${producer ? mib(producer.maxRssBytes) : '–'} | ` +
    `${cpu(s, 'sim')} / ${cpu(s, 'kafka')} | ${s.loadAverage.toFixed(2)} |`
  );
}

/** The run as markdown: machine, targets, the step table, the peers table, and what went wrong. */
export function renderMarkdown(results: RunResults): string {
  const m = results.machine;
  const lines: string[] = [];
  lines.push(`# candleflow benchmark, ${results.startedAt}`, '');
  lines.push(
    `Machine: ${m.cpus} CPUs (${m.cpuModel}), ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GiB RAM, ` +
      `load average at start ${m.loadAverage.join(' / ')}; Node ${m.node}, ClickHouse ${m.clickhouse}, Kafka ${m.kafka}.`,
    `Steps of ${results.settings.durationS} s (rates, CPU and latencies leave out the first ${results.settings.warmupS} s), ` +
      `Kafka compression ${results.settings.compression}, ${results.settings.windowSeconds} s windows, ` +
      `${results.settings.graceMs} ms grace, peers: ${results.settings.peers.join(', ') || 'none'}` +
      (Object.keys(results.settings.serviceEnv).length > 0
        ? `; producer and aggregator settings: ${Object.entries(results.settings.serviceEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}.`
        : '.'),
    '',
  );
  if (results.steps.length > 0) {
    lines.push('## Targets', '', '| target | met | measured |', '| --- | --- | --- |');
    for (const check of checkTargets(results)) {
      const met = check.met === undefined ? 'not measured' : check.met ? 'yes' : '**no**';
      lines.push(`| ${check.target} | ${met} | ${check.detail} |`);
    }
    lines.push('');
  }
  if (results.producerSteps.length > 0) {
    lines.push(
      '## The producer alone',
      '',
      'simulator → producer → Kafka, no consumers. Rates in msgs/s (trades and depth diffs) over the measured ' +
        "part: input as the simulator sent it (the producer's back-pressure holds it back), into Kafka as the " +
        'topics grew; the rate into Kafka in stretches of 5 s: its best stretch (ceiling), the last third of the ' +
        `stretches as a share of it, and its slope (msgs/s per s); saturated steadily = ended at ≥ ${STEADY_SHARE * 100} % ` +
        'of its ceiling. Trades dropped: trade messages the producer queue refused (each repaired over REST), ' +
        'lost: those it could not repair. Trades and depth: sent by the simulator over the whole step / messages on ' +
        "the topic (depth: diffs and the producer's snapshot events; diffs of a book not yet in sync wait in the " +
        'producer). CPU in % of one core; RSS the largest seen.',
      '',
      '| target rate | symbols | input | into Kafka | Kafka ceiling / end / slope | under load | trades dropped / lost | trades sent / on Kafka | depth sent / on Kafka | producer CPU % | producer RSS MiB | CPU % sim / Kafka | load |',
      '| ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...results.producerSteps.map(producerRow),
      '',
    );
  }
  if (results.steps.length > 0) {
    lines.push(
      '## The project, per step',
      '',
      'Rates in msgs/s (trades and depth diffs); latencies in seconds, p50 / p99; CPU in % of one core ' +
        '(sim / producer / aggregator / Kafka / ClickHouse) over the measured part; stack RSS in MiB, each process at its largest; ' +
        'trades dropped: trade messages the producer queue refused (each repaired over REST), lost: those it could not repair; ' +
        "load: the machine's 1-minute load average at the end of the step (above ~2, other work shared the CPUs).",
      '',
      '| target rate | symbols | input | end to end | sustained | backlog growth /s | trade → open row | window close → final row | CPU % | stack RSS | trades dropped / lost | load |',
      '| ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const step of results.steps) lines.push(stepRow(step));
  }
  if (
    results.steps.some(
      (s) =>
        s.catchUp.kafkaEngine.status !== 'off' ||
        s.catchUp.kafkaEngineWindowsOnly.status !== 'off' ||
        s.catchUp.naive.status !== 'off',
    )
  ) {
    lines.push(
      '',
      '## Peers on the same topic',
      '',
      `Catch-up: after the live run, each implementation reads the step's stored trades topic alone, from its ` +
        `start, for up to ${results.settings.catchUpSeconds} s (the project with an empty depth topic). Rates in ` +
        'trades/s; CPU per trade as trades per CPU-second (project: aggregator + ClickHouse HTTP/merge threads; ' +
        'Kafka engine: ClickHouse schedule-pool + librdkafka + merge threads; Kafka engine, windows only: ' +
        'schedule-pool + librdkafka threads; naive: its process + all of ClickHouse); ' +
        "xN = the project's figure / the peer's. The Kafka engine writes what the project writes (every raw trade " +
        "into a copy of the project's trades table, and the windows); the windows-only variant, the earlier peer, " +
        'writes window states alone. Latencies are from the live run of the Kafka engine (seconds, p50 / p99; the ' +
        "ratio is the engine's p99 / the project's). Windows: compared with the project's final windows " +
        "(counts, ids and OHLC exact, volumes within 1e-9): the Kafka engine's from the live run (and its raw " +
        "trades with the project's, row for row), the windows-only variant's and the naive consumer's from " +
        'catch-up, on the windows they read in full.',
      '',
      '| rate | trades | catch-up trades/s: project | Kafka engine | Kafka engine, windows only | naive | trades per CPU-s: project | Kafka engine | Kafka engine, windows only | naive | live Kafka engine: trade → row | window close → complete | windows: Kafka engine | windows: Kafka engine, windows only | windows: naive |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
    );
    for (const step of results.steps) lines.push(peerRow(step));
  }
  if (results.steps.some((s) => s.catchUp.spark && s.catchUp.spark.status !== 'off')) {
    lines.push(
      '',
      '## The Spark peer (the original design)',
      '',
      'Spark Structured Streaming 3.5 (PySpark, `local[2]`, bench/spark/windows_job.py) reads the stored trades ' +
        'topic alone from its start, with a watermark of the grace, and appends each final window to ClickHouse. ' +
        "Catch-up from the query's start (JVM start-up left out) to the end of the micro-batch that read the last " +
        "trade; CPU: its JVM + its Python driver + ClickHouse HTTP/merge threads; xN = the project's figure / " +
        "Spark's. RSS in MiB: the live aggregator's largest, and Spark's JVM + Python at their largest. Latency " +
        '(seconds, p50 / p99): on live probe trades sent after the catch-up (a quiet job: a floor), from window ' +
        "end + grace, and from the trade, to its final row readable. Windows: every one compared with the project's.",
      '',
      '| rate | trades | catch-up trades/s: project | Spark | trades per CPU-s: project | Spark | RSS MiB: aggregator | Spark | Spark: window close → row | trade → row | windows: Spark |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const step of results.steps) if (step.catchUp.spark) lines.push(sparkRow(step));
  }
  const profiled = [
    ...results.steps.map((s) => ({ label: `${int(s.plan.rate)}/s`, profiles: s.profiles })),
    ...results.producerSteps.map((s) => ({ label: `${int(s.plan.rate)}/s, producer only`, profiles: s.profiles })),
  ].filter((s) => s.profiles.length > 0);
  if (profiled.length > 0) {
    lines.push('', '## Profiles (node --cpu-prof, self time)', '');
    for (const s of profiled) {
      for (const p of s.profiles) {
        lines.push(
          `### ${s.label}: ${p.process} (${p.seconds} s, ${p.file})`,
          '',
          `By module: ${p.byModule.map((e) => `${e.name} ${e.selfPercent}%`).join(', ')}.`,
          '',
          '| function | self % |',
          '| --- | ---: |',
          ...p.byFunction.map((e) => `| \`${e.name.replace(/\|/g, '\\|')}\` | ${e.selfPercent} |`),
          '',
        );
      }
    }
  }
  const problems: string[] = [];
  for (const s of results.steps) {
    const label = `${int(s.plan.rate)}/s`;
    if (!s.input.sustained) problems.push(`${label}: not sustained: ${s.input.verdict}`);
    if (s.liveKafkaEngine.error) problems.push(`${label}: ClickHouse Kafka engine (live): ${s.liveKafkaEngine.error}`);
    for (const [name, c] of [
      ['project', s.catchUp.project],
      ['Kafka engine', s.catchUp.kafkaEngine],
      ['Kafka engine (windows only)', s.catchUp.kafkaEngineWindowsOnly],
      ['naive', s.catchUp.naive],
    ] as const) {
      if (c.error) problems.push(`${label}: ${name} catch-up: ${c.error}`);
      if (c.detail) problems.push(`${label}: ${name} catch-up: ${c.detail}`);
      if (c.insertErrors)
        problems.push(`${label}: ${name}: ${c.insertErrors} failed inserts, last: ${c.lastInsertError ?? '?'}`);
    }
    for (const [name, c] of [
      ['Kafka engine', s.windows.kafkaEngine],
      ['Kafka engine (windows only)', s.windows.kafkaEngineWindowsOnly],
      ['naive', s.windows.naive],
    ] as const) {
      for (const e of c?.examples ?? []) {
        problems.push(`${label}: ${name} window ${e.window}: ${e.field} expected ${e.expected}, got ${e.actual}`);
      }
    }
    const spark = s.catchUp.spark;
    if (spark?.error) problems.push(`${label}: Spark catch-up: ${spark.error}`);
    if (spark?.detail) problems.push(`${label}: Spark catch-up: ${spark.detail}`);
    for (const e of s.windows.spark?.examples ?? []) {
      problems.push(`${label}: Spark window ${e.window}: ${e.field} expected ${e.expected}, got ${e.actual}`);
    }
    for (const note of s.notes) problems.push(`${label}: ${note}`);
  }
  for (const s of results.producerSteps) {
    for (const note of s.notes) problems.push(`${int(s.plan.rate)}/s, producer only: ${note}`);
  }
  for (const f of results.failures) problems.push(`${int(f.plan.rate)}/s: step failed: ${f.error}`);
  if (problems.length > 0) {
    lines.push('', '## Notes', '');
    for (const p of problems) lines.push(`- ${p.replace(/\n/g, ' ')}`);
  }
  return `${lines.join('\n')}\n`;
}
