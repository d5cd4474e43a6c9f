import pRetry from 'p-retry';

/** Exponential backoff bounds: the first retry waits `minMs`, each next one twice as long, up to `maxMs`. */
export interface BackoffOptions {
  minMs: number;
  maxMs: number;
}

export interface RetryOptions extends BackoffOptions {
  /** Aborting stops the retries (and the wait in progress) with the signal's reason. */
  signal?: AbortSignal;
  /** Whether a failure is worth another attempt; a false answer rethrows it at once. Default: every failure. */
  retryable?: (error: Error) => boolean;
  /** Told of each failure that will be retried, with the wait before the next attempt. */
  onRetry?: (error: Error, attempt: number, delayMs: number) => void;
}

/**
 * Delay before retry number `attempt` (1-based): doubles from `minMs` up to `maxMs`, then
 * a random part ("equal jitter": half fixed, half random) so that many clients cut at
 * the same moment do not come back in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = backoffCeiling(attempt, options);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

function backoffCeiling(attempt: number, options: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  return Math.min(Math.max(options.maxMs, options.minMs), options.minMs * 2 ** exponent);
}

/**
 * Runs `attempt` until it succeeds, a failure is not retryable, or `signal` aborts: the
 * one retry loop of the project (ClickHouse writes and reads, migrations, dead letters,
 * topic creation, REST look-ups), so every caller backs off and stops the same way.
 */
export function retry<T>(attempt: (attemptNumber: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const retryable = options.retryable ?? (() => true);
  const maxMs = Math.max(options.maxMs, options.minMs);
  return pRetry(attempt, {
    retries: Number.POSITIVE_INFINITY,
    factor: 2,
    minTimeout: options.minMs,
    maxTimeout: maxMs,
    randomize: false,
    signal: options.signal,
    shouldRetry: ({ error }) => retryable(error),
    onFailedAttempt: ({ error, attemptNumber }) => {
      if (retryable(error)) options.onRetry?.(error, attemptNumber, backoffCeiling(attemptNumber, options));
    },
  });
}

/** An error's message, for logs and short reasons, whatever was thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
