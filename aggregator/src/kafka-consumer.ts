import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '@candleflow/common/logger';
import { retry } from '@candleflow/common/retry';
import type { MessageProcessor, Topics } from './message-processor.js';
import type { AggregatorMetrics } from './metrics.js';
import type { GroupOffset } from './dlq-publisher.js';
import type { CommitOffset } from './write-batch.js';

/** One partition this instance owns, for one stretch of ownership. */
interface OwnedPartition {
  topic: string;
  partition: number;
  /** Next offset to process; undefined until the first message after assignment. */
  next: number | undefined;
  /**
   * Messages before this offset were written by an earlier owner (rows and dead letters,
   * committed with the `processedTo` of the partition's offset): re-read for the open
   * windows only. Undefined until read back from the group's offsets.
   */
  replayTo: number | undefined;
  /** Resolves when the partition may be processed (final windows and the group's processedTo read back). */
  ready: Promise<void> | undefined;
  /** Identity of this stretch of ownership: offsets taken under another are not committed. */
  token: object;
}

export interface ConsumerOptions {
  groupId: string;
  topics: Topics;
  sessionTimeoutMs: number;
  logger: Logger;
  metrics: AggregatorMetrics;
  /** Reads which windows are final already, before a newly assigned trades partition is processed. */
  loadFinalWindows: () => Promise<void>;
  /** After each processed batch (the caller may cut a write batch). */
  afterBatch: () => void;
  /** When the group starts rebalancing (the caller flushes what it can). */
  onRebalance: () => void;
}

const key = (topic: string, partition: number): string => `${topic}:${partition}`;

/**
 * What goes with each committed offset: `processedTo`, the offset before which every
 * message of the partition is written (rows, dead letters). The committed offset itself
 * stays behind it while an open window needs earlier trades; a later owner re-reads those
 * for the windows only, so a dead letter (or a row ClickHouse refused) between the two is
 * not sent twice.
 */
export function commitMetadata(processedTo: number): string {
  return JSON.stringify({ processedTo });
}

/** The `processedTo` of a committed offset's metadata, if it has one. */
export function processedToOf(metadata: string | null | undefined): number | undefined {
  if (!metadata) return undefined;
  try {
    const { processedTo } = JSON.parse(metadata) as { processedTo?: unknown };
    return typeof processedTo === 'number' && Number.isSafeInteger(processedTo) && processedTo >= 0
      ? processedTo
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The KafkaJS side: one consumer group over the trades and depth topics, `eachBatch`,
 * manual offset resolution and commits. KafkaJS re-reads every partition from its
 * committed offset after each rebalance; partitions kept across the rebalance skip what
 * they already processed, newly assigned ones start afresh from the commit.
 */
export class AggregatorConsumer {
  private readonly consumer: Consumer;
  /** Reads the group's committed offsets with their metadata (the consumer API leaves the metadata out). */
  private readonly admin: Admin;
  private readonly owned = new Map<string, OwnedPartition>();
  private current: Promise<void> = Promise.resolve();
  private stopping = false;
  private crashed: Error | undefined;
  private joined = false;

  constructor(
    kafka: Kafka,
    private readonly processor: MessageProcessor,
    private readonly options: ConsumerOptions,
  ) {
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(options.sessionTimeoutMs / 3)),
      maxWaitTimeInMs: 500,
    });
    this.admin = kafka.admin();
    const { events } = this.consumer;
    this.consumer.on(events.GROUP_JOIN, (event) => this.assign(event.payload.memberAssignment));
    this.consumer.on(events.REBALANCING, () => {
      this.options.logger.info('group rebalancing');
      this.options.onRebalance();
    });
    this.consumer.on(events.CRASH, (event) => {
      const { error, restart } = event.payload;
      this.options.logger.error({ err: error.message, restart }, 'Kafka consumer crashed');
      if (!restart) this.crashed = error;
    });
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await this.consumer.connect();
    const topics = [this.options.topics.trades, this.options.topics.depth];
    // The topics may not exist yet (the producer creates them by writing); wait for them.
    await retry(() => this.consumer.subscribe({ topics, fromBeginning: true }), {
      minMs: 1000,
      maxMs: 1000,
      retryable: (error) => {
        const type = (error as { type?: unknown }).type;
        return !this.stopping && (type === 'UNKNOWN_TOPIC_OR_PARTITION' || type === 'LEADER_NOT_AVAILABLE');
      },
      onRetry: (_error, attempt) => {
        if (attempt === 1) this.options.logger.warn({ topics }, 'waiting for the topics to exist');
      },
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => {
        const run = this.processBatch(payload);
        this.current = run.catch(() => undefined);
        return run;
      },
    });
  }

  get health(): { ok: boolean; state: string; partitions: number } {
    const state = this.crashed ? `crashed: ${this.crashed.message}` : this.joined ? 'member' : 'joining';
    return { ok: this.crashed === undefined, state, partitions: this.owned.size };
  }

  pause(): void {
    this.consumer.pause(this.topicList());
  }

  resume(): void {
    this.consumer.resume(this.topicList());
  }

  /** Per owned partition, the offset up to which everything read is in rows taken so far and no open window needs it. */
  committableOffsets(): CommitOffset[] {
    const offsets: CommitOffset[] = [];
    for (const owned of this.owned.values()) {
      if (owned.next === undefined) continue;
      const needed = this.processor.firstNeededOffset(owned.topic, owned.partition);
      offsets.push({
        topic: owned.topic,
        partition: owned.partition,
        offset: needed === undefined ? owned.next : Math.min(needed, owned.next),
        // What an earlier owner wrote stays written, even before this owner re-read it.
        processedTo: Math.max(owned.next, owned.replayTo ?? 0),
        owner: owned.token,
      });
    }
    return offsets;
  }

  /** The offsets still belonging to the current ownership of their partition (a later owner re-reads the rest). */
  currentOffsets(offsets: CommitOffset[]): GroupOffset[] {
    return offsets
      .filter((o) => this.owned.get(key(o.topic, o.partition))?.token === o.owner)
      .map(({ topic, partition, offset, processedTo }) => ({
        topic,
        partition,
        offset,
        metadata: commitMetadata(processedTo),
      }));
  }

  /** Commits offsets (best effort: a failed commit only means re-reading). */
  async commit(offsets: GroupOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    try {
      await this.consumer.commitOffsets(
        offsets.map((o) => ({
          topic: o.topic,
          partition: o.partition,
          offset: String(o.offset),
          metadata: o.metadata,
        })),
      );
      this.options.metrics.commits.inc({ result: 'ok' });
    } catch (error) {
      // The group moved on (rebalance) or the broker is away: the next owner, or this one
      // after rejoining, re-reads from the previous commit, which is always safe.
      this.options.metrics.commits.inc({ result: 'failed' });
      this.options.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'offset commit failed');
    }
  }

  /** Stops taking new messages and waits for the batch in progress. The group membership stays, for a last commit. */
  async quiesce(): Promise<void> {
    this.stopping = true;
    this.pause();
    await this.current;
  }

  /** Leaves the group and closes the connections. */
  async disconnect(): Promise<void> {
    this.stopping = true;
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }

  private topicList(): { topic: string }[] {
    return [{ topic: this.options.topics.trades }, { topic: this.options.topics.depth }];
  }

  private assign(assignment: Record<string, number[]>): void {
    this.joined = true;
    const assigned = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) assigned.add(key(topic, partition));
    }
    for (const [k, owned] of this.owned) {
      if (assigned.has(k)) continue;
      this.owned.delete(k);
      this.processor.dropPartition(owned.topic, owned.partition);
      this.options.metrics.consumerLag.remove({ topic: owned.topic, partition: String(owned.partition) });
    }
    let finalWindows: Promise<void> | undefined;
    let processedTo: Promise<Map<string, number>> | undefined;
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        if (this.owned.has(key(topic, partition))) continue;
        this.processor.dropPartition(topic, partition);
        const isTrades = topic === this.options.topics.trades;
        const owned: OwnedPartition = {
          topic,
          partition,
          next: undefined,
          replayTo: undefined,
          ready: undefined,
          token: {},
        };
        const marks = (processedTo ??= this.readProcessedTo(Object.keys(assignment)));
        owned.ready = Promise.all([isTrades ? (finalWindows ??= this.loadFinalWindows()) : undefined, marks]).then(
          ([, byPartition]) => {
            owned.replayTo = byPartition.get(key(topic, partition));
          },
        );
        // Awaited by the partition's first batch; if that never comes, a failure (only on
        // shutdown) must not surface as an unhandled rejection.
        owned.ready.catch(() => undefined);
        this.owned.set(key(topic, partition), owned);
      }
    }
    this.options.logger.info({ assignment }, 'partitions assigned');
  }

  /** The group's committed `processedTo` per partition of `topics` (see commitMetadata). */
  private readProcessedTo(topics: string[]): Promise<Map<string, number>> {
    return retry(
      async () => {
        const marks = new Map<string, number>();
        for (const { topic, partitions } of await this.admin.fetchOffsets({ groupId: this.options.groupId, topics })) {
          for (const { partition, metadata } of partitions) {
            const mark = processedToOf(metadata);
            if (mark !== undefined) marks.set(key(topic, partition), mark);
          }
        }
        return marks;
      },
      {
        minMs: 200,
        maxMs: 5000,
        retryable: () => !this.stopping,
        onRetry: (error, _attempt, delayMs) =>
          this.options.logger.warn(
            { err: error instanceof Error ? error.message : String(error), retryInMs: delayMs },
            'reading the group offsets failed; retrying',
          ),
      },
    );
  }

  private loadFinalWindows(): Promise<void> {
    const loading = this.options.loadFinalWindows();
    // Awaited by the partition's first batch; if that never comes, a failure (only on
    // shutdown) must not surface as an unhandled rejection.
    loading.catch(() => undefined);
    return loading;
  }

  /**
   * Waits for `owned` to be ready, heartbeating so that a slow ClickHouse does not cost the
   * group membership. False if the consumer began stopping meanwhile.
   */
  private async waitReady(owned: OwnedPartition, heartbeat: () => Promise<void>): Promise<boolean> {
    const ready = owned.ready;
    if (ready === undefined) return true;
    let done = false;
    const settled = ready.then(() => {
      done = true;
    });
    while (!done) {
      await Promise.race([settled, sleep(1000)]);
      if (this.stopping) return false;
      if (!done) await heartbeat();
    }
    owned.ready = undefined;
    return true;
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = payload;
    const partitionKey = key(batch.topic, batch.partition);
    const owned = this.owned.get(partitionKey);
    if (!owned || this.stopping) return;
    if (!(await this.waitReady(owned, heartbeat))) return;
    // Only a seek makes a batch stale, and the aggregator never seeks: asked once, as KafkaJS
    // builds a JSON key for each call.
    const stale = isStale();
    const nowMs = Date.now();
    // The loop below never yields to the event loop, so nothing can stop the consumer or
    // revoke the partition while it runs: checked once, not per message.
    if (this.stopping || stale || !isRunning() || this.owned.get(partitionKey) !== owned) return;
    // Only the last offset handled is resolved: KafkaJS keeps just the latest, and parses each it is given.
    let handled: string | undefined;
    let processed = 0;
    try {
      for (const message of batch.messages) {
        const offset = Number(message.offset);
        if (owned.next === undefined || offset >= owned.next) {
          const timestampMs = Number(message.timestamp);
          this.processor.process(
            batch.topic,
            batch.partition,
            {
              offset,
              key: message.key,
              value: message.value,
              // A record without a usable timestamp is judged against the time it is read.
              timestampMs: Number.isFinite(timestampMs) && timestampMs > 0 ? timestampMs : nowMs,
              headers: message.headers,
              replayed: owned.replayTo !== undefined && offset < owned.replayTo,
            },
            nowMs,
          );
          owned.next = offset + 1;
          processed++;
        }
        handled = message.offset;
      }
    } finally {
      if (handled !== undefined) resolveOffset(handled);
      // Counted per batch: a labelled counter costs a hash lookup per call.
      if (processed > 0) this.options.metrics.messages.inc({ topic: batch.topic }, processed);
    }
    if (owned.next !== undefined) {
      this.options.metrics.consumerLag.set(
        { topic: batch.topic, partition: String(batch.partition) },
        Math.max(0, Number(batch.highWatermark) - owned.next),
      );
    }
    this.options.afterBatch();
  }
}
