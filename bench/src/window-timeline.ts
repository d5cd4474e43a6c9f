interface WindowHistory {
  /** When each larger last trade id of the window was first readable, in time order. */
  times: number[];
  lastIds: number[];
  finalAtMs: number | undefined;
}

/**
 * What one implementation's window table showed over time: for each (symbol, window),
 * when each new last trade id became readable and when the window was first readable as
 * final. Fed by the poller; asked afterwards when a given trade became readable.
 */
export class WindowTimeline {
  private readonly windows = new Map<string, WindowHistory>();

  /** Records one poll's view of a window at `atMs`. */
  observe(symbol: string, windowStartMs: number, lastTradeId: number, isFinal: boolean, atMs: number): void {
    const key = `${symbol}\u0000${windowStartMs}`;
    let history = this.windows.get(key);
    if (!history) {
      history = { times: [], lastIds: [], finalAtMs: undefined };
      this.windows.set(key, history);
    }
    const previous = history.lastIds.at(-1);
    if (previous === undefined || lastTradeId > previous) {
      history.times.push(atMs);
      history.lastIds.push(lastTradeId);
    }
    if (isFinal && history.finalAtMs === undefined) history.finalAtMs = atMs;
  }

  /** When a row of the window holding trade `tradeId` (or a later one) was first readable. */
  firstReadable(symbol: string, windowStartMs: number, tradeId: number): number | undefined {
    const history = this.windows.get(`${symbol}\u0000${windowStartMs}`);
    if (!history) return undefined;
    let lo = 0;
    let hi = history.lastIds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((history.lastIds[mid] ?? 0) >= tradeId) hi = mid;
      else lo = mid + 1;
    }
    return history.times[lo];
  }

  /** When the window was first readable marked final. */
  finalAt(symbol: string, windowStartMs: number): number | undefined {
    return this.windows.get(`${symbol}\u0000${windowStartMs}`)?.finalAtMs;
  }

  get size(): number {
    return this.windows.size;
  }
}
