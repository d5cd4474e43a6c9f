export interface BackoffOptions {
  minMs: number;
  maxMs: number;
}

/**
 * Delay before retry number `attempt` (1-based): doubles from `minMs` up to `maxMs`, then
 * a random part ("equal jitter": half fixed, half random) so that many clients cut at
 * the same moment do not come back in lockstep.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const ceiling = Math.min(options.maxMs, options.minMs * 2 ** exponent);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
