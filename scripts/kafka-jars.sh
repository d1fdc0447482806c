#!/usr/bin/env bash
# Resolves Apache Kafka's broker and tools jars from Maven Central into a cache directory, so that the
# test harness can run real KRaft brokers as plain JVM processes (no Docker needed).
#   usage: scripts/kafka-jars.sh [VERSION]     prints the libs directory on stdout
# The cache is keyed by version; a populated cache returns at once.
set -euo pipefail
version="${1:-${KBACKUP_KAFKA_VERSION:-4.1.2}}"
cache_root="${KBACKUP_CACHE_DIR:-$HOME/.cache/kbackup}/kafka/$version"
libs="$cache_root/libs"
if [ -f "$cache_root/.complete" ]; then
  echo "$libs"
  exit 0
fi
command -v mvn >/dev/null || { echo "kafka-jars: Maven (mvn) is required to fetch Kafka $version jars; install it (apt-get install maven)" >&2; exit 1; }
command -v java >/dev/null || { echo "kafka-jars: Java 17 is required to run Kafka $version; install it (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
mkdir -p "$cache_root"
# Serialise concurrent first runs (vitest projects, parallel CI steps): the second waits, then finds the cache.
if command -v flock >/dev/null; then
  exec 9>"$cache_root/.lock"
  flock 9
  if [ -f "$cache_root/.complete" ]; then
    echo "$libs"
    exit 0
  fi
fi
# Kafka 4.x ships no SLF4J binding in its POM (the release tarball adds log4j2); 3.9 used reload4j.
case "$version" in
  3.*) logging='<dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>1.2.25</version></dependency>
<dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>' ;;
  *) logging='<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>2.24.3</version></dependency>
<dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId><version>2.24.3</version></dependency>' ;;
esac
cat >"$cache_root/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kbackup</groupId><artifactId>kafka-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$version</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$version</version></dependency>
    $logging
  </dependencies>
</project>
POM
rm -rf "$libs"
mvn -B -q -Dstyle.color=never -f "$cache_root/pom.xml" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$libs" >&2
touch "$cache_root/.complete"
echo "$libs"
