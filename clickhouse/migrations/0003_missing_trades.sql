-- Completeness: each window row says how many trade ids inside its [first_trade_id,
-- last_trade_id] range it lacks (Binance spot trade ids are consecutive per symbol). A
-- repair that fills them rewrites the row with more trades, so a higher version.
--
-- 18.16 has no ADD COLUMN IF NOT EXISTS: the migration runner takes "column already
-- exists" as done. Window rows get a new input table rather than a changed one, so that an
-- aggregator still running the old code fails loudly (its input table is gone) instead of
-- writing into an input table without a view for a moment.
ALTER TABLE trade_windows ADD COLUMN missing_trades UInt64 DEFAULT 0 AFTER last_trade_id;

CREATE TABLE IF NOT EXISTS trade_windows_input_v2
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
    missing_trades UInt64,
    is_final UInt8,
    version UInt64
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS trade_windows_input_v2_mv TO trade_windows AS
SELECT
    symbol, window_start,
    toFloat64(open) AS open, toFloat64(high) AS high, toFloat64(low) AS low, toFloat64(close) AS close,
    volume, quote_volume, vwap, trades, buy_volume, sell_volume, first_trade_id, last_trade_id, missing_trades,
    is_final, version
FROM trade_windows_input_v2;

DROP TABLE IF EXISTS trade_windows_input_mv;

DROP TABLE IF EXISTS trade_windows_input;
