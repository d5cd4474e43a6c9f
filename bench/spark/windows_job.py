"""The design candleflow grew from, as a bench peer: Spark Structured Streaming reads the
trades topic, computes event-time windows with a watermark of the project's grace, and
writes each window once, when final (append mode), to ClickHouse over HTTP.

Settings come as JSON in the environment (BENCH_SPARK, see bench/src/spark-peer.ts).
Progress goes to the bench over Node's IPC channel (NODE_CHANNEL_FD: one JSON object a
line), one message per micro-batch.
"""

import json
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from decimal import Decimal

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQueryListener
from pyspark.sql.types import BooleanType, DecimalType, LongType, StringType, StructField, StructType

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PRICE = DecimalType(18, 8)


def settings_from_env() -> dict:
    raw = os.environ.get("BENCH_SPARK")
    if not raw:
        sys.exit("spark peer: BENCH_SPARK is not set")
    settings = json.loads(raw)
    for key in ("brokers", "topics", "clickhouseUrl", "database", "table", "checkpointDir", "jars"):
        if key not in settings:
            sys.exit(f"spark peer: BENCH_SPARK lacks {key}")
    for key in ("database", "table"):
        if not NAME.match(settings[key]):
            sys.exit(f"spark peer: BENCH_SPARK {key} is not a plain name: {settings[key]!r}")
    for key in ("windowSeconds", "graceMs", "shufflePartitions"):
        if not isinstance(settings.get(key), int) or settings[key] < 0:
            sys.exit(f"spark peer: BENCH_SPARK {key} must be a whole number, got {settings.get(key)!r}")
    return settings


channel_fd = int(os.environ["NODE_CHANNEL_FD"]) if "NODE_CHANNEL_FD" in os.environ else None
channel_lock = threading.Lock()


def tell(message: dict) -> None:
    """To the bench (Node's IPC channel reads JSON lines); printed too, for the log."""
    line = json.dumps(message, separators=(",", ":"))
    print(line, flush=True)
    if channel_fd is not None:
        with channel_lock:
            os.write(channel_fd, (line + "\n").encode())


# Binance trade events; anything else parses to nulls and is dropped.
TRADE = StructType(
    [
        StructField("s", StringType()),
        StructField("t", LongType()),
        StructField("p", StringType()),
        StructField("q", StringType()),
        StructField("T", LongType()),
        StructField("m", BooleanType()),
    ]
)


def windows(spark: SparkSession, settings: dict) -> DataFrame:
    raw = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", ",".join(settings["brokers"]))
        .option("subscribe", ",".join(settings["topics"]))
        .option("startingOffsets", "earliest")
        .load()
    )
    trades = (
        raw.select(F.from_json(F.col("value").cast("string"), TRADE).alias("j"))
        .select(
            F.col("j.s").alias("symbol"),
            F.col("j.t").alias("trade_id"),
            # Casting Binance's decimal text is exact; text that is no number becomes null.
            F.col("j.p").cast(PRICE).alias("price"),
            F.col("j.q").cast(PRICE).alias("qty"),
            F.col("j.T").alias("trade_time_ms"),
            F.col("j.m").alias("buyer_maker"),
        )
        .where(
            "symbol IS NOT NULL AND trade_id IS NOT NULL AND price IS NOT NULL AND qty IS NOT NULL "
            "AND trade_time_ms IS NOT NULL AND buyer_maker IS NOT NULL"
        )
        .withColumn("event_time", F.timestamp_millis("trade_time_ms"))
        .withWatermark("event_time", f"{settings['graceMs']} milliseconds")
        # A re-delivered trade counts once, as in the project.
        .dropDuplicates(["symbol", "trade_id", "event_time"])
    )
    # Open and close by (trade time, trade id), as the project orders them.
    order = F.struct("trade_time_ms", "trade_id")
    zero = F.lit(0).cast(PRICE)
    return (
        trades.groupBy(F.window("event_time", f"{settings['windowSeconds']} seconds"), "symbol")
        .agg(
            F.min_by("price", order).alias("open"),
            F.max("price").alias("high"),
            F.min("price").alias("low"),
            F.max_by("price", order).alias("close"),
            F.sum("qty").alias("volume"),
            F.sum(F.col("price") * F.col("qty")).alias("quote_volume"),
            F.sum(F.when(~F.col("buyer_maker"), F.col("qty")).otherwise(zero)).alias("buy_volume"),
            F.sum(F.when(F.col("buyer_maker"), F.col("qty")).otherwise(zero)).alias("sell_volume"),
            F.count(F.lit(1)).alias("trades"),
            F.min("trade_id").alias("first_trade_id"),
            F.max("trade_id").alias("last_trade_id"),
        )
        .select(F.col("window.start").cast("long").alias("window_start"), "*")
        .drop("window")
    )


DECIMALS = ("open", "high", "low", "close", "volume", "quote_volume", "buy_volume", "sell_volume")


def row_json(row) -> str:
    """One JSONEachRow line; decimals as plain digits (ClickHouse reads Decimal text exactly)."""
    fields = row.asDict()
    parts = [f'"symbol":{json.dumps(fields["symbol"])}']
    for key in ("window_start", "trades", "first_trade_id", "last_trade_id"):
        parts.append(f'"{key}":{int(fields[key])}')
    for key in DECIMALS:
        value: Decimal = fields[key]
        parts.append(f'"{key}":{format(value, "f")}')
    return "{" + ",".join(parts) + "}"


def writer(settings: dict):
    url = (
        settings["clickhouseUrl"].rstrip("/")
        + "/?query="
        + urllib.parse.quote(f"INSERT INTO {settings['database']}.{settings['table']} FORMAT JSONEachRow")
    )

    def write(batch: DataFrame, batch_id: int) -> None:
        rows = batch.collect()
        if rows:
            body = "\n".join(row_json(r) for r in rows).encode()
            try:
                with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=60) as answer:
                    answer.read()
            except urllib.error.HTTPError as error:
                # Fails the query: the bench reports ClickHouse's own words.
                raise RuntimeError(f"ClickHouse refused batch {batch_id}: {error.read()[:500]!r}") from error
        tell({"type": "written", "batchId": batch_id, "rows": len(rows), "atMs": int(time.time() * 1000)})

    return write


class Progress(StreamingQueryListener):
    """One message per micro-batch: rows read, how long it took and when it ended."""

    def onQueryStarted(self, event) -> None:
        pass

    def onQueryProgress(self, event) -> None:
        p = event.progress
        tell(
            {
                "type": "batch",
                "batchId": p.batchId,
                "inputRows": p.numInputRows,
                "durationMs": p.durationMs.get("triggerExecution", 0),
                "atMs": int(time.time() * 1000),
            }
        )

    def onQueryIdle(self, event) -> None:
        pass

    def onQueryTerminated(self, event) -> None:
        if event.exception:
            tell({"type": "failed", "error": event.exception[:2000]})


def main() -> None:
    settings = settings_from_env()
    spark = (
        SparkSession.builder.master("local[2]")
        .appName("candleflow-bench-spark-peer")
        .config("spark.jars", ",".join(settings["jars"]))
        .config("spark.sql.shuffle.partitions", str(settings["shufflePartitions"]))
        .config("spark.sql.session.timeZone", "UTC")
        # Binance's fields "t" (id) and "T" (time) differ only in case.
        .config("spark.sql.caseSensitive", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    spark.streams.addListener(Progress())
    query = (
        windows(spark, settings)
        .writeStream.outputMode("append")
        .foreachBatch(writer(settings))
        .option("checkpointLocation", settings["checkpointDir"])
        .start()
    )
    tell({"type": "started", "atMs": int(time.time() * 1000), "jvmPid": jvm_pid(spark)})

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda _signum, _frame: stopping.set())
    # Short waits, so that a SIGTERM is seen between py4j calls.
    while not stopping.is_set() and not query.awaitTermination(0.5):
        pass
    query.stop()
    spark.stop()


def jvm_pid(spark: SparkSession) -> int:
    """The driver JVM's pid, so that the bench meters it too."""
    return int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())


if __name__ == "__main__":
    main()
