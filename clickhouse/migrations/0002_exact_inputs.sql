-- Exact prices on the way in. ClickHouse 18.16 reads Float64 text with a fast algorithm
-- that is not correctly rounded ('19.80043021' becomes 19.800430210000002), but reads
-- Decimal text exactly, and toFloat64(Decimal64) rounds correctly. So writers insert into
-- these Null-engine tables, with prices and quantities as Decimal(18, 8) (Binance's
-- precision), and the materialized views write the converted rows into the contract
-- tables. Nothing is stored here; readers use the contract tables only.

CREATE TABLE IF NOT EXISTS trades_input
(
    symbol String,
    trade_id UInt64,
    price Decimal(18, 8),
    qty Decimal(18, 8),
    trade_time_ms UInt64,
    event_time_ms UInt64,
    is_buyer_maker UInt8
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS trades_input_mv TO trades AS
SELECT symbol, trade_id, toFloat64(price) AS price, toFloat64(qty) AS qty, trade_time_ms, event_time_ms, is_buyer_maker
FROM trades_input;

-- Sums (volumes) and the VWAP are not decimals of the input; they arrive as Float64.
CREATE TABLE IF NOT EXISTS trade_windows_input
(
    symbol String,
    window_start DateTime,
    open Decimal(18, 8),
    high Decimal(18, 8),
    low Decimal(18, 8),
    close Decimal(18, 8),
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
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS trade_windows_input_mv TO trade_windows AS
SELECT
    symbol, window_start,
    toFloat64(open) AS open, toFloat64(high) AS high, toFloat64(low) AS low, toFloat64(close) AS close,
    volume, quote_volume, vwap, trades, buy_volume, sell_volume, first_trade_id, last_trade_id, is_final, version
FROM trade_windows_input;

CREATE TABLE IF NOT EXISTS orderbook_snapshots_input
(
    symbol String,
    last_update_id UInt64,
    snapshot_time_ms UInt64,
    side Enum8('bid' = 1, 'ask' = 2),
    price Decimal(18, 8),
    qty Decimal(18, 8)
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS orderbook_snapshots_input_mv TO orderbook_snapshots AS
SELECT symbol, last_update_id, snapshot_time_ms, side, toFloat64(price) AS price, toFloat64(qty) AS qty
FROM orderbook_snapshots_input;

CREATE TABLE IF NOT EXISTS orderbook_updates_input
(
    symbol String,
    first_update_id UInt64,
    last_update_id UInt64,
    event_time_ms UInt64,
    side Enum8('bid' = 1, 'ask' = 2),
    price Decimal(18, 8),
    qty Decimal(18, 8)
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS orderbook_updates_input_mv TO orderbook_updates AS
SELECT symbol, first_update_id, last_update_id, event_time_ms, side, toFloat64(price) AS price, toFloat64(qty) AS qty
FROM orderbook_updates_input;
