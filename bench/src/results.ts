import type { ProfileSummary } from './cpu-profile.js';
import type { Distribution } from './percentiles.js';
import type { RateTrend, Saturation } from './rate-trend.js';
import type { WindowComparison } from './window-compare.js';

export interface StepPlan {
  /** Frames per second the simulator is asked for (trades and depth diffs together). */
  rate: number;
  symbols: number;
  durationS: number;
}

/** One per-second sample of the live phase. */
export interface SeriesPoint {
  /** Seconds since the simulator started sending. */
  t: number;
  simFrames: number;
  /** Messages on the trades and depth topics. */
  kafkaMessages: number;
  /** Messages the aggregator has processed (its own metric). */
  processed: number;
  /** Messages the aggregator's group has committed. */
  committed: number;
}

export interface ProcessFigures {
  /** Over the measured part of the live phase; 100 = one core. */
  cpuPercent: number;
  /** Largest resident set seen during the step. */
  maxRssBytes: number;
}

export interface Efficiency {
  messages: number;
  cpuSeconds: number;
  /** Messages per CPU-second (higher is better). */
  msgsPerCpuSecond: number;
  /** What the CPU-seconds cover. */
  cpuOf: string;
}

/** One implementation alone on a step's stored trades topic, reading from its start for a bounded time. */
export interface CatchUpFigures {
  status: 'ok' | 'error' | 'off';
  error?: string;
  /** Trades read (and windowed) while measured. */
  messages: number;
  seconds: number;
  /** Trades per second. */
  rate: number;
  cpuSeconds: number;
  /** Trades per CPU-second (higher is better). */
  msgsPerCpuSecond: number;
  /** What the CPU-seconds cover. */
  cpuOf: string;
  insertErrors?: number;
  lastInsertError?: string;
  /** What else the run showed (the project: pauses and insert times). */
  detail?: string;
  /** Largest resident set of the peer's own processes (the Spark peer: its JVM + Python). */
  maxRssBytes?: number;
  /** The Spark peer's trade -> final row latency, on live probe trades after the catch-up. */
  probeLatency?: { finalAfterClose: Distribution; finalFromTrade: Distribution };
}

export interface ProjectLatency {
  /** Trade time -> a window row holding the trade readable (open or final). */
  open: Distribution;
  /** Window end + grace -> the final row readable, per window. */
  finalAfterClose: Distribution;
  /** Trade time -> its window's final row readable. */
  finalFromTrade: Distribution;
}

export interface KafkaEngineLatency {
  /** Trade time -> a partial aggregate holding the trade readable. */
  open: Distribution;
  /** Window end + grace -> all of the window's trades readable (the engine has no final rows). */
  completeAfterClose: Distribution;
  completeFromTrade: Distribution;
}

export interface StepResult {
  plan: StepPlan;
  warmupS: number;
  /** The machine's 1-minute load average at the end of the live phase (other work shows here). */
  loadAverage: number;
  names: { tradesTopic: string; depthTopic: string; database: string; group: string };
  input: {
    /** Rates over the measured part of the live phase (after warm-up), msgs/s. */
    simRate: number;
    kafkaRate: number;
    processedRate: number;
    simFrames: number;
    tradesInKafka: number;
    depthInKafka: number;
    sustained: boolean;
    /** Why the step counts as sustained or not. */
    verdict: string;
    /** The processed (end-to-end) rate in stretches of 5 s over the measured part, and how it held. */
    processedTrend: RateTrend;
    processedSaturation: Saturation;
    /** Messages on the topics not yet processed by the aggregator. */
    processedLag: { atStart: number; atEnd: number; max: number; slopePerS: number };
    /** Messages on the topics past the group's committed offsets. */
    committedLag: { max: number; atEnd: number };
    producerDropped: number;
    /** Trade messages the producer's queue refused (each then repaired over REST)... */
    tradesDropped: number;
    /** ...and trades it could not repair: lost. */
    tradesUnrepairable: number;
    aggregatorPauses: number;
    lateTrades: number;
    deadLetters: number;
    /** Seconds from the end of input until every message was processed and every window final. */
    drainS: number | null;
  };
  latency: { project: ProjectLatency; kafkaEngine: KafkaEngineLatency | null; sampledTrades: number };
  processes: Record<string, ProcessFigures>;
  /** sim + producer + aggregator + Kafka + ClickHouse, each at its largest. */
  stackRssBytes: number;
  /** Messages per CPU-second in the live run (project: trades and depth; Kafka engine: trades). */
  liveEfficiency: { project: Efficiency; projectConsumerOnly: Efficiency; kafkaEngine: Efficiency | null };
  /**
   * Each alone on the step's trades topic, one after the other: the like-for-like comparison.
   * kafkaEngine writes what the project writes (raw trades and windows); kafkaEngineWindowsOnly
   * the windows alone (the earlier peer, for continuity).
   */
  catchUp: {
    project: CatchUpFigures;
    kafkaEngine: CatchUpFigures;
    kafkaEngineWindowsOnly: CatchUpFigures;
    naive: CatchUpFigures;
    /** Spark Structured Streaming (the original design), if installed and asked for. */
    spark?: CatchUpFigures;
  };
  windows: {
    project: number;
    /** Trades counted in the project's final windows (every trade once: equals tradesInKafka). */
    projectTrades: number;
    /** The live run's (fair) Kafka engine. */
    kafkaEngine: WindowComparison | null;
    /** The live fair Kafka engine's raw trades against the project's: distinct rows, and whether they are the same. */
    kafkaEngineTrades: { project: number; kafkaEngine: number; equal: boolean } | null;
    /** The windows-only Kafka engine's catch-up, on the windows it read in full. */
    kafkaEngineWindowsOnly: WindowComparison | null;
    naive: (WindowComparison & { naiveTrades: number }) | null;
    /** The Spark peer's final windows (its catch-up). */
    spark?: WindowComparison | null;
  };
  /** ClickHouse's Kafka engine (the fair variant) in the live run. */
  liveKafkaEngine: { status: 'ok' | 'error' | 'off'; error?: string; consumed: number; drainS: number | null };
  /** Where the profiled processes spent their time (--profile). */
  profiles: (ProfileSummary & { process: string })[];
  series: SeriesPoint[];
  notes: string[];
}

/** One per-second sample of a producer-only step. */
export interface ProducerSeriesPoint {
  /** Seconds since the simulator started sending. */
  t: number;
  simFrames: number;
  /** Messages on the trades and depth topics. */
  kafkaMessages: number;
}

/** simulator -> producer -> Kafka alone, no consumers: the producer's own ceiling. */
export interface ProducerOnlyResult {
  plan: StepPlan;
  warmupS: number;
  loadAverage: number;
  input: {
    /** Over the measured part (after warm-up), msgs/s: frames the simulator sent, messages that reached Kafka. */
    simRate: number;
    kafkaRate: number;
    /** Over the whole step: trades and depth diffs the simulator sent, and the messages on each topic. */
    simTrades: number;
    simDepth: number;
    tradesInKafka: number;
    /** Depth diffs and the producer's snapshot events. */
    depthInKafka: number;
    producerDropped: number;
    tradesDropped: number;
    tradesUnrepairable: number;
  };
  /** The rate into Kafka over the measured part, in stretches of a few seconds. */
  kafkaTrend: RateTrend;
  saturation: Saturation;
  /** CPU and largest RSS of the simulator, the producer and Kafka over the measured part. */
  processes: Record<string, ProcessFigures>;
  profiles: (ProfileSummary & { process: string })[];
  series: ProducerSeriesPoint[];
  notes: string[];
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  loadAverage: [number, number, number];
  node: string;
  clickhouse: string;
  kafka: string;
}

export interface RunResults {
  startedAt: string;
  finishedAt: string | null;
  machine: Machine;
  settings: {
    durationS: number;
    warmupS: number;
    catchUpSeconds: number;
    compression: string;
    windowSeconds: number;
    graceMs: number;
    peers: string[];
    seed: number;
    /** Settings given to the producer and the aggregator with --env. */
    serviceEnv: Record<string, string>;
    profile: string[];
  };
  steps: StepResult[];
  /** Producer-only steps (--producer-only). */
  producerSteps: ProducerOnlyResult[];
  failures: { plan: StepPlan; error: string }[];
}
