/**
 * The peers' ClickHouse tables, beside the project's in the step's database.
 *
 * ClickHouse's own Kafka engine, in two variants on a Kafka table on the trades topic:
 * - `fair`: writes what the project writes. A materialized view folds each block into
 *   per-window partial aggregates (AggregatingMergeTree states, read back with
 *   GROUP BY ... -Merge) and another writes every raw trade into a copy of the project's
 *   `trades` table (same columns, types and engine), converted as the project converts
 *   (Decimal text to Float64, exact). Two views on the one Kafka table.
 * - `windows-only`: the window states alone (the bench's earlier peer, kept for continuity).
 * Prices and quantities stay exact Decimal(18, 8) in the windows (quote volume in Decimal(38, 16)).
 *
 * The naive consumer: one row per trade, prices as the text Binance sent; the windows
 * are a GROUP BY over the raw rows at read time.
 */

export const NAIVE_TRADES_TABLE = 'peer_naive_trades';

export type KafkaPeerVariant = 'fair' | 'windows-only';

export interface KafkaPeerTables {
  /** The Kafka table: its consumer runs while a view reads it. */
  source: string;
  /** The view on the Kafka table writing the windows. */
  view: string;
  windows: string;
  /** The copy of the project's trades table (fair only). */
  trades: string | undefined;
}

export function kafkaPeerTables(variant: KafkaPeerVariant): KafkaPeerTables {
  const prefix = variant === 'fair' ? 'peer_kafka' : 'peer_kafka_wo';
  return {
    source: `${prefix}_source`,
    view: `${prefix}_mv`,
    windows: `${prefix}_windows`,
    trades: variant === 'fair' ? `${prefix}_trades` : undefined,
  };
}

function quote(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export interface KafkaPeerSettings {
  variant: KafkaPeerVariant;
  /** Holds the project's tables (the fair variant copies `trades`). */
  database: string;
  brokers: string[];
  topic: string;
  groupId: string;
  windowSeconds: number;
}

/** The fields of a Binance trade event the windows need; the trades table needs the event time too. */
const WINDOW_FIELDS = 's String, t UInt64, p String, q String, T UInt64, m UInt8';
const TRADE_FIELDS = `${WINDOW_FIELDS}, E UInt64`;

function windowsSelect(windowSeconds: number, from: string): string {
  const w = windowSeconds;
  return `SELECT
      s AS symbol,
      toDateTime(intDiv(T, ${w * 1000}) * ${w}) AS window_start,
      argMinState(toDecimal64(p, 8), (T, t)) AS open,
      argMaxState(toDecimal64(p, 8), (T, t)) AS close,
      maxState(toDecimal64(p, 8)) AS high,
      minState(toDecimal64(p, 8)) AS low,
      sumState(toDecimal64(q, 8)) AS volume,
      sumState(toDecimal128(p, 8) * toDecimal128(q, 8)) AS quote_volume,
      sumState(if(m = 0, toDecimal64(q, 8), toDecimal64(0, 8))) AS buy_volume,
      countState() AS trades,
      minState(t) AS first_trade_id,
      maxState(t) AS last_trade_id
    FROM ${from}
    GROUP BY symbol, window_start`;
}

/** Statements creating a Kafka-engine peer; it starts reading when its view on the Kafka table exists. */
export function kafkaPeerStatements(settings: KafkaPeerSettings): string[] {
  const db = settings.database;
  const tables = kafkaPeerTables(settings.variant);
  const windowsTable = `CREATE TABLE ${db}.${tables.windows} (
      symbol String,
      window_start DateTime,
      open AggregateFunction(argMin, Decimal(18, 8), Tuple(UInt64, UInt64)),
      close AggregateFunction(argMax, Decimal(18, 8), Tuple(UInt64, UInt64)),
      high AggregateFunction(max, Decimal(18, 8)),
      low AggregateFunction(min, Decimal(18, 8)),
      volume AggregateFunction(sum, Decimal(18, 8)),
      quote_volume AggregateFunction(sum, Decimal(38, 16)),
      buy_volume AggregateFunction(sum, Decimal(18, 8)),
      trades AggregateFunction(count),
      first_trade_id AggregateFunction(min, UInt64),
      last_trade_id AggregateFunction(max, UInt64)
    ) ENGINE = AggregatingMergeTree() PARTITION BY toYYYYMM(window_start) ORDER BY (symbol, window_start)`;
  const source = `CREATE TABLE ${db}.${tables.source} (${tables.trades ? TRADE_FIELDS : WINDOW_FIELDS})
    ENGINE = Kafka SETTINGS
      kafka_broker_list = ${quote(settings.brokers.join(','))},
      kafka_topic_list = ${quote(settings.topic)},
      kafka_group_name = ${quote(settings.groupId)},
      kafka_format = 'JSONEachRow'`;
  if (!tables.trades) {
    return [
      windowsTable,
      source,
      `CREATE MATERIALIZED VIEW ${db}.${tables.view} TO ${db}.${tables.windows} AS
    ${windowsSelect(settings.windowSeconds, `${db}.${tables.source}`)}`,
    ];
  }
  // The engine streams once every view on the Kafka table has its target table: the views
  // come first and their targets last, so that both views see every block.
  return [
    source,
    `CREATE MATERIALIZED VIEW ${db}.${tables.view} TO ${db}.${tables.windows} AS
    ${windowsSelect(settings.windowSeconds, `${db}.${tables.source}`)}`,
    // As the project's input view: Decimal text read exactly, then toFloat64 (correctly rounded).
    `CREATE MATERIALIZED VIEW ${db}.${tables.trades}_mv TO ${db}.${tables.trades} AS
    SELECT s AS symbol, t AS trade_id, toFloat64(toDecimal64(p, 8)) AS price, toFloat64(toDecimal64(q, 8)) AS qty,
      T AS trade_time_ms, E AS event_time_ms, m AS is_buyer_maker,
      -- The engine cannot read headers (source: rest); 18.16 wants every column of the target.
      0 AS from_rest
    FROM ${db}.${tables.source}`,
    // The project's own table, whatever its migrations made of it.
    `CREATE TABLE ${db}.${tables.trades} AS ${db}.trades`,
    windowsTable,
  ];
}

/** Stops a Kafka-engine peer's consumer (its tables stay). */
export function dropKafkaPeerStatements(database: string, variant: KafkaPeerVariant): string[] {
  const tables = kafkaPeerTables(variant);
  const views = [tables.view, ...(tables.trades ? [`${tables.trades}_mv`] : [])];
  return [...views, tables.source].map((table) => `DROP TABLE IF EXISTS ${database}.${table}`);
}

/** Trades the peer has fully processed: in its windows and, for the fair variant, in its trades table. */
export function kafkaPeerConsumedQuery(database: string, variant: KafkaPeerVariant): string {
  const tables = kafkaPeerTables(variant);
  const windowed = `(SELECT countMerge(trades) FROM ${database}.${tables.windows})`;
  return tables.trades
    ? `SELECT least(${windowed}, (SELECT count() FROM ${database}.${tables.trades})) AS n`
    : `SELECT ${windowed} AS n`;
}

/**
 * Count and order-free checksum of a trades table's distinct rows (from_rest left out: the
 * Kafka engine cannot read headers), so that the fair peer's raw rows can be checked
 * against the project's.
 */
export function tradesChecksumQuery(database: string, table: string): string {
  const columns = 'symbol, trade_id, price, qty, trade_time_ms, event_time_ms, is_buyer_maker';
  return `SELECT count() AS n, toString(sum(cityHash64(${columns}))) AS sum
    FROM (SELECT DISTINCT ${columns} FROM ${database}.${table})`;
}

export function naiveTableStatement(database: string): string {
  return `CREATE TABLE ${database}.${NAIVE_TRADES_TABLE} (
  symbol String,
  trade_id UInt64,
  price String,
  qty String,
  trade_time_ms UInt64,
  is_buyer_maker UInt8
) ENGINE = MergeTree() ORDER BY (symbol, trade_id)`;
}

export const SPARK_WINDOWS_TABLE = 'peer_spark_windows';

/**
 * The Spark peer's final windows, exact decimals as Spark computes them. Replacing: a
 * micro-batch that Spark runs again after a failure writes its windows again.
 */
export function sparkTableStatement(database: string): string {
  return `CREATE TABLE ${database}.${SPARK_WINDOWS_TABLE} (
  symbol String,
  window_start DateTime,
  open Decimal(18, 8),
  high Decimal(18, 8),
  low Decimal(18, 8),
  close Decimal(18, 8),
  volume Decimal(38, 8),
  quote_volume Decimal(38, 16),
  buy_volume Decimal(38, 8),
  sell_volume Decimal(38, 8),
  trades UInt64,
  first_trade_id UInt64,
  last_trade_id UInt64
) ENGINE = ReplacingMergeTree() ORDER BY (symbol, window_start)`;
}
