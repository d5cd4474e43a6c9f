import type { RunResults, StepResult } from './results.js';

export interface TargetCheck {
  target: string;
  /** undefined when the run has no step that measures it. */
  met: boolean | undefined;
  detail: string;
}

const GIB = 1024 ** 3;
/** The issue's figures at 10,000 msgs/s and in catch-up. */
const OPEN_P99_MS = 1000;
const FINAL_P99_MS = 500;
const STACK_RSS_BYTES = 1.5 * GIB;
const AGGREGATOR_TRADES_PER_CPU_SECOND = 150_000;
const OVERLOAD_RATE = 100_000;
const OVERLOAD_TARGET = 'end to end stays at its ceiling at 100,000 msgs/s input';
const OPEN_TARGET = `open rows within ${OPEN_P99_MS / 1000} s (p99) at 10,000 msgs/s`;
const FINAL_TARGET = `final rows within ${FINAL_P99_MS / 1000} s of window end + grace (p99) at 10,000 msgs/s`;
const RSS_TARGET = `whole stack under ${STACK_RSS_BYTES / GIB} GB RSS at 10,000 msgs/s`;
const seconds = (ms: number): string => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'never');

function windowsIdentical(step: StepResult): boolean {
  const { kafkaEngine, kafkaEngineTrades, kafkaEngineWindowsOnly, naive } = step.windows;
  const same = (c: { compared: number; equal: number; extra: number } | null): boolean =>
    c === null || (c.compared === c.equal && c.extra === 0);
  return (
    same(kafkaEngine) &&
    (kafkaEngineTrades?.equal ?? true) &&
    same(kafkaEngineWindowsOnly) &&
    same(naive) &&
    step.windows.projectTrades === step.input.tradesInKafka
  );
}

/** The issue's targets, checked against a run: met, missed (and by how much), or not measured. */
export function checkTargets(results: RunResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const steps = results.steps;

  const sustained = steps.filter((s) => s.input.sustained).map((s) => s.plan.rate);
  const best = Math.max(0, ...sustained);
  const top = Math.max(0, ...steps.map((s) => s.input.processedRate));
  checks.push({
    target: 'sustain >= 50,000 msgs/s end to end',
    met: steps.some((s) => s.plan.rate >= 50_000) || best >= 50_000 ? best >= 50_000 : undefined,
    detail:
      best >= 50_000
        ? `held ${best.toLocaleString('en-US')} msgs/s`
        : `highest step held: ${best.toLocaleString('en-US')} msgs/s; most processed in any step: ` +
          `${top.toLocaleString('en-US')} msgs/s (${Math.round((top / 50_000) * 100)}% of the target)`,
  });

  // Overload: the end-to-end rate at 100k input must hold at the best it reached, not collapse.
  const overloaded = steps.filter((s) => s.plan.rate >= OVERLOAD_RATE);
  const lower = Math.max(0, ...steps.filter((s) => s.plan.rate < OVERLOAD_RATE).map((s) => s.input.processedRate));
  checks.push({
    target: OVERLOAD_TARGET,
    met:
      overloaded.length === 0
        ? undefined
        : overloaded.every((s) => s.input.processedSaturation !== 'fell below its ceiling'),
    detail:
      overloaded.length === 0
        ? 'no step at 100,000 msgs/s or more'
        : overloaded
            .map(({ plan, input }) => {
              const { ceiling, endShareOfCeiling } = input.processedTrend;
              return (
                `${plan.rate.toLocaleString('en-US')}/s: ${input.processedSaturation}, ` +
                `${input.processedRate.toLocaleString('en-US')} msgs/s end to end (best 5 s ${ceiling.toLocaleString('en-US')}, ` +
                `ending at ${Math.round(endShareOfCeiling * 100)}% of it)`
              );
            })
            .join('; ') + (lower > 0 ? `; a lower step carried ${lower.toLocaleString('en-US')} msgs/s` : ''),
  });

  const at10k = steps.find((s) => s.plan.rate === 10_000);
  if (!at10k) {
    for (const target of [OPEN_TARGET, FINAL_TARGET, RSS_TARGET]) {
      checks.push({ target, met: undefined, detail: 'no 10k step' });
    }
  } else {
    const open = at10k.latency.project.open.p99;
    checks.push({
      target: OPEN_TARGET,
      met: open <= OPEN_P99_MS,
      detail: `p99 ${seconds(open)}${open > OPEN_P99_MS ? ` (${seconds(open - OPEN_P99_MS)} over)` : ''}`,
    });
    const final = at10k.latency.project.finalAfterClose.p99;
    checks.push({
      target: FINAL_TARGET,
      met: final <= FINAL_P99_MS,
      detail: `p99 ${seconds(final)}${final > FINAL_P99_MS ? ` (${seconds(final - FINAL_P99_MS)} over)` : ''}`,
    });
    const rss = at10k.stackRssBytes;
    checks.push({
      target: RSS_TARGET,
      met: rss <= STACK_RSS_BYTES,
      detail: `${(rss / GIB).toFixed(2)} GiB (sim + producer + aggregator + Kafka + ClickHouse)`,
    });
  }

  const caughtUp = steps.filter((s) => s.catchUp.project.status === 'ok');
  if (caughtUp.length > 0) {
    const lowest = Math.min(...caughtUp.map((s) => s.catchUp.project.msgsPerCpuSecond));
    checks.push({
      target: `aggregator >= ${AGGREGATOR_TRADES_PER_CPU_SECOND.toLocaleString('en-US')} trades per CPU-second in catch-up`,
      met: lowest >= AGGREGATOR_TRADES_PER_CPU_SECOND,
      detail: `lowest step: ${lowest.toLocaleString('en-US')} (${Math.round((lowest / AGGREGATOR_TRADES_PER_CPU_SECOND) * 100)}% of the target)`,
    });
  }

  const compared = steps.filter((s) => s.catchUp.kafkaEngine.status === 'ok' || s.catchUp.naive.status === 'ok');
  if (compared.length === 0) {
    checks.push({
      target: 'ahead of both peers in throughput per CPU, identical windows',
      met: undefined,
      detail: 'no peers ran',
    });
  } else {
    const behind: string[] = [];
    for (const s of compared) {
      const own = s.catchUp.project.msgsPerCpuSecond;
      for (const [name, peer] of [
        ['Kafka engine', s.catchUp.kafkaEngine],
        ['naive', s.catchUp.naive],
      ] as const) {
        if (peer.status === 'ok' && peer.msgsPerCpuSecond >= own) {
          behind.push(
            `${s.plan.rate}/s: ${name} ${peer.msgsPerCpuSecond} vs ${own} trades/CPU-s ` +
              `(the project at ${Math.round((own / peer.msgsPerCpuSecond) * 100)}%)`,
          );
        }
      }
    }
    const differing = compared.filter((s) => !windowsIdentical(s)).map((s) => `${s.plan.rate}/s`);
    checks.push({
      target: 'ahead of both peers in throughput per CPU, identical windows',
      met: behind.length === 0 && differing.length === 0,
      detail: [
        behind.length > 0 ? `behind at ${behind.join('; ')}` : 'ahead at every step',
        differing.length > 0 ? `windows differ at ${differing.join(', ')}` : 'windows identical',
      ].join('; '),
    });
  }
  // The Spark peer is opt-in (installed on demand): its target is checked only when it ran.
  const withSpark = steps.filter((s) => s.catchUp.spark?.status === 'ok');
  if (withSpark.length > 0) {
    const facts: string[] = [];
    let ahead = true;
    for (const s of withSpark) {
      const spark = s.catchUp.spark;
      if (!spark) continue;
      const own = s.catchUp.project.msgsPerCpuSecond;
      const aggregatorMiB = Math.round((s.processes.aggregator?.maxRssBytes ?? 0) / 2 ** 20);
      const sparkMiB = Math.round((spark.maxRssBytes ?? 0) / 2 ** 20);
      const windows = s.windows.spark;
      const same = windows ? windows.compared === windows.equal && windows.extra === 0 : false;
      ahead &&= own > spark.msgsPerCpuSecond && aggregatorMiB < sparkMiB && same;
      facts.push(
        `${s.plan.rate}/s: ${own} vs ${spark.msgsPerCpuSecond} trades/CPU-s, aggregator ${aggregatorMiB} vs ` +
          `Spark ${sparkMiB} MiB, windows ${same ? 'identical' : 'differ'}`,
      );
    }
    checks.push({
      target: 'ahead of the Spark peer in trades per CPU-second and in memory, identical windows',
      met: ahead,
      detail: facts.join('; '),
    });
  }
  return checks;
}
