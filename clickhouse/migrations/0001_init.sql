-- Tables of DESIGN.md's contract. Statements carry no database name: the runner (and
-- Docker's init) run them in CLICKHOUSE_DB. Kept within ClickHouse 18.16: no DateTime64,
-- TTL, CODEC or toStartOfInterval; times in ms are UInt64 *_ms columns.

-- One row per trade. Re-delivered trades collapse on (symbol, trade_time_ms, trade_id): a
-- trade's time never changes, and ordering by time first serves time-range reads (charts,
-- window recomputation) from the primary key.
CREATE TABLE IF NOT EXISTS trades
(
    symbol String,
    trade_id UInt64,
    price Float64,
    qty Float64,
    trade_time_ms UInt64,
    event_time_ms UInt64,
    is_buyer_maker UInt8
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(toDateTime(intDiv(trade_time_ms, 1000)))
ORDER BY (symbol, trade_time_ms, trade_id);

-- One row per (symbol, window). Open windows are re-written as they change; `version`
-- orders the rewrites (is_final * 2^32 + trades: final rows above open ones, then by trade
-- count) so FINAL keeps the most complete row, and a replayed prefix of the input can
-- never win.
CREATE TABLE IF NOT EXISTS trade_windows
(
    symbol String,
    window_start DateTime,
    open Float64,
    high Float64,
    low Float64,
    close Float64,
    volume Float64,
    quote_volume Float64,
    vwap Float64,
    trades UInt32,
    buy_volume Float64,
    sell_volume Float64,
    first_trade_id UInt64,
    last_trade_id UInt64,
    is_final UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_start)
ORDER BY (symbol, window_start);

-- One row per level of each snapshot the producer took.
CREATE TABLE IF NOT EXISTS orderbook_snapshots
(
    symbol String,
    last_update_id UInt64,
    snapshot_time_ms UInt64,
    side Enum8('bid' = 1, 'ask' = 2),
    price Float64,
    qty Float64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(toDateTime(intDiv(snapshot_time_ms, 1000)))
ORDER BY (symbol, last_update_id, side, price);

-- One row per changed level of each diff; qty 0 removes the level.
CREATE TABLE IF NOT EXISTS orderbook_updates
(
    symbol String,
    first_update_id UInt64,
    last_update_id UInt64,
    event_time_ms UInt64,
    side Enum8('bid' = 1, 'ask' = 2),
    price Float64,
    qty Float64
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(toDateTime(intDiv(event_time_ms, 1000)))
ORDER BY (symbol, last_update_id, side, price);
