import type { RunResults, StepResult } from './results.js';

export interface TargetCheck {
  target: string;
  /** undefined when the run has no step that measures it. */
  met: boolean | undefined;
  detail: string;
}

const GIB = 1024 ** 3;
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

  const at10k = steps.find((s) => s.plan.rate === 10_000);
  if (!at10k) {
    checks.push({ target: 'open rows within 1.5 s (p99) at 10,000 msgs/s', met: undefined, detail: 'no 10k step' });
    checks.push({
      target: 'final rows within 1 s of window end + grace (p99) at 10,000 msgs/s',
      met: undefined,
      detail: 'no 10k step',
    });
    checks.push({ target: 'whole stack under 2 GB RSS at 10,000 msgs/s', met: undefined, detail: 'no 10k step' });
  } else {
    const open = at10k.latency.project.open.p99;
    checks.push({
      target: 'open rows within 1.5 s (p99) at 10,000 msgs/s',
      met: open <= 1500,
      detail: `p99 ${seconds(open)}${open > 1500 ? ` (${seconds(open - 1500)} over)` : ''}`,
    });
    const final = at10k.latency.project.finalAfterClose.p99;
    checks.push({
      target: 'final rows within 1 s of window end + grace (p99) at 10,000 msgs/s',
      met: final <= 1000,
      detail: `p99 ${seconds(final)}${final > 1000 ? ` (${seconds(final - 1000)} over)` : ''}`,
    });
    const rss = at10k.stackRssBytes;
    checks.push({
      target: 'whole stack under 2 GB RSS at 10,000 msgs/s',
      met: rss < 2 * GIB,
      detail: `${(rss / GIB).toFixed(2)} GiB (sim + producer + aggregator + Kafka + ClickHouse)`,
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
