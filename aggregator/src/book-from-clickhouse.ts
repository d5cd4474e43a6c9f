import type { ClickHouseClient } from '@clickhouse/client';
import { storedDecimalText } from '@candleflow/common/decimal';
import { OrderBook, type Side } from '@candleflow/common/order-book';

/** ClickHouse 18.16 has no query parameters: values are inlined after these checks. */
function symbolLiteral(symbol: string): string {
  if (!/^[A-Z0-9]{1,32}$/.test(symbol)) throw new Error(`not a symbol: ${JSON.stringify(symbol)}`);
  return `'${symbol}'`;
}

function idLiteral(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`not an id or time: ${value}`);
  return String(value);
}

interface LevelRow {
  side: Side;
  price: number;
  qty: number;
}

async function rows<T>(client: ClickHouseClient, query: string): Promise<T[]> {
  return (await client.query({ query, format: 'JSONEachRow' })).json<T>();
}

/**
 * The book of `symbol` right after update id `updateId`, from `orderbook_snapshots` and
 * `orderbook_updates` alone: the latest snapshot at or before it, then every diff after
 * the snapshot up to it. Undefined when no snapshot is that old.
 */
export async function bookAtUpdateId(
  client: ClickHouseClient,
  symbol: string,
  updateId: number,
): Promise<OrderBook | undefined> {
  const s = symbolLiteral(symbol);
  const [head] = await rows<{ id: string; n: string }>(
    client,
    `SELECT toString(max(last_update_id)) AS id, count() AS n FROM orderbook_snapshots
     WHERE symbol = ${s} AND last_update_id <= ${idLiteral(updateId)}`,
  );
  if (!head || Number(head.n) === 0) return undefined;
  const snapshotId = Number(head.id);
  const levels = await rows<LevelRow>(
    client,
    `SELECT side, price, qty FROM orderbook_snapshots FINAL WHERE symbol = ${s} AND last_update_id = ${snapshotId}`,
  );
  const book = new OrderBook(symbol);
  book.loadSnapshot(
    snapshotId,
    levels.filter((l) => l.side === 'bid').map((l) => [storedDecimalText(l.price), storedDecimalText(l.qty)]),
    levels.filter((l) => l.side === 'ask').map((l) => [storedDecimalText(l.price), storedDecimalText(l.qty)]),
  );
  const changes = await rows<LevelRow & { u: string }>(
    client,
    `SELECT toString(last_update_id) AS u, side, price, qty FROM orderbook_updates FINAL
     WHERE symbol = ${s} AND last_update_id > ${snapshotId} AND last_update_id <= ${idLiteral(updateId)}
     ORDER BY last_update_id`,
  );
  for (const change of changes) {
    book.setLevel(change.side, storedDecimalText(change.price), storedDecimalText(change.qty));
    book.lastUpdateId = Number(change.u);
  }
  return book;
}

/** The update id the book of `symbol` had reached at `timeMs` (event time), if any. */
export async function updateIdAtTime(
  client: ClickHouseClient,
  symbol: string,
  timeMs: number,
): Promise<number | undefined> {
  const s = symbolLiteral(symbol);
  const t = idLiteral(timeMs);
  const [row] = await rows<{ id: string; n: string }>(
    client,
    `SELECT toString(max(id)) AS id, count() AS n FROM (
       SELECT last_update_id AS id FROM orderbook_updates WHERE symbol = ${s} AND event_time_ms <= ${t}
       UNION ALL
       SELECT last_update_id AS id FROM orderbook_snapshots WHERE symbol = ${s} AND snapshot_time_ms <= ${t})`,
  );
  return row && Number(row.n) > 0 ? Number(row.id) : undefined;
}

/** The book of `symbol` as it was at `timeMs`. */
export async function bookAtTime(
  client: ClickHouseClient,
  symbol: string,
  timeMs: number,
): Promise<OrderBook | undefined> {
  const updateId = await updateIdAtTime(client, symbol, timeMs);
  return updateId === undefined ? undefined : bookAtUpdateId(client, symbol, updateId);
}
