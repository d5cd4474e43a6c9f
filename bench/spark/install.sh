#!/usr/bin/env bash
# Installs the bench's Spark peer on demand (never in CI, never a product dependency):
# a Python venv with PySpark from PyPI and Spark's Kafka source from Maven Central,
# both under .local/spark. Run from anywhere: bash bench/spark/install.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dest="$root/.local/spark"
# 3.5.7 is the newest 3.5 whose Kafka source Maven Central serves here; PySpark must match it.
version="$(sed -n 's:.*<spark.version>\(.*\)</spark.version>.*:\1:p' "$here/pom.xml")"

for tool in java python3 mvn; do
  command -v "$tool" >/dev/null || { echo "spark peer: $tool is not installed; nothing done" >&2; exit 1; }
done

mkdir -p "$dest"
if [ ! -x "$dest/venv/bin/python" ]; then
  python3 -m venv "$dest/venv"
fi
"$dest/venv/bin/pip" install --quiet --disable-pip-version-check "pyspark==$version"

# Only what pyspark's own jars lack: the Kafka source, its token provider, the Kafka client
# and commons-pool2 (Hadoop, lz4, snappy and slf4j ship with pyspark).
rm -rf "$dest/jars"
mvn -q -f "$here/pom.xml" dependency:copy-dependencies \
  -DoutputDirectory="$dest/jars" \
  -DincludeArtifactIds="spark-sql-kafka-0-10_2.12,spark-token-provider-kafka-0-10_2.12,kafka-clients,commons-pool2"
echo "$version" >"$dest/VERSION"
echo "spark peer: PySpark $version and $(ls "$dest/jars" | wc -l) Kafka jars in $dest"
