#!/usr/bin/env bash
# The local stack runs a real Kafka broker from Maven Central jars: it needs java (17+) and mvn.
set -u
missing=0
if ! command -v java >/dev/null 2>&1; then
  echo "java not found: install a JDK or JRE 17+ (Debian/Ubuntu: apt-get install openjdk-17-jre-headless)" >&2
  missing=1
else
  major=$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')
  if [ -n "$major" ] && [ "${major%%.*}" -lt 17 ]; then
    echo "java $major found, but Kafka 4 needs Java 17+: install openjdk-17-jre-headless or newer" >&2
    missing=1
  fi
fi
if ! command -v mvn >/dev/null 2>&1; then
  echo "mvn not found: install Apache Maven 3.6+ (Debian/Ubuntu: apt-get install maven)" >&2
  missing=1
fi
exit $missing
