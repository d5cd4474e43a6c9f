-- Which trades the producer fetched over REST to fill a hole in the trade ids (Kafka header
-- `source: rest`), so that repairs can be counted. As in 0003, a new input table rather
-- than a changed one: an aggregator still running the old code fails loudly.
ALTER TABLE trades ADD COLUMN from_rest UInt8 DEFAULT 0 AFTER is_buyer_maker;

CREATE TABLE IF NOT EXISTS trades_input_v2
(
    symbol String,
    trade_id UInt64,
    price Decimal(18, 8),
    qty Decimal(18, 8),
    trade_time_ms UInt64,
    event_time_ms UInt64,
    is_buyer_maker UInt8,
    from_rest UInt8
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS trades_input_v2_mv TO trades AS
SELECT
    symbol, trade_id, toFloat64(price) AS price, toFloat64(qty) AS qty, trade_time_ms, event_time_ms, is_buyer_maker,
    from_rest
FROM trades_input_v2;

DROP TABLE IF EXISTS trades_input_mv;

DROP TABLE IF EXISTS trades_input;
