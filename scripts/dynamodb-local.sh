#!/usr/bin/env bash
# Amazon DynamoDB Local, the local stack's DynamoDB (moto serves only KMS and Secrets Manager).
#
#   scripts/dynamodb-local.sh install     fetch the pinned release from Maven Central (once)
#   scripts/dynamodb-local.sh run PORT    serve an in-memory database on 127.0.0.1:PORT
#
# The jars and the native sqlite4java library live in .dynamodb-local/ (git-ignored). Java runs
# it; Maven fetches it. `run` execs java so that stopping this process stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."

# The newest DynamoDBLocal whose dependencies all resolve on Maven Central (3.3.x lacks some).
VERSION=3.1.0
DIR=.dynamodb-local
STAMP="$DIR/.installed-$VERSION"

need() {
  command -v "$1" >/dev/null 2>&1 || {
    echo "DynamoDB Local needs '$1' on PATH: install $2 (Debian: apt-get install $3)" >&2
    exit 1
  }
}

install() {
  need java "a Java 17+ runtime" openjdk-17-jre-headless
  [ -f "$STAMP" ] && return 0
  need mvn "Apache Maven" maven
  rm -rf "$DIR"
  mkdir -p "$DIR/lib" "$DIR/native"
  cat > "$DIR/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>toolreg.local</groupId>
  <artifactId>dynamodb-local</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>software.amazon.dynamodb</groupId>
      <artifactId>DynamoDBLocal</artifactId>
      <version>$VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
  echo "fetching DynamoDB Local $VERSION from Maven Central into $DIR/" >&2
  mvn -q -B -f "$DIR/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$PWD/$DIR/lib" -DincludeScope=runtime >&2
  # sqlite4java looks for its native library by its unversioned name on java.library.path.
  local so
  so=$(ls "$DIR"/lib/libsqlite4java-linux-amd64-*.so | head -1)
  cp "$so" "$DIR/native/libsqlite4java-linux-amd64.so"
  touch "$STAMP"
}

run() {
  local port=${1:?usage: dynamodb-local.sh run PORT}
  install
  exec java -Djava.library.path="$DIR/native" -cp "$DIR/lib/*" \
    software.amazon.dynamodb.services.local.main.ServerRunner \
    -inMemory -sharedDb -port "$port"
}

case "${1:-}" in
  install) install ;;
  run) shift; run "$@" ;;
  *) echo "usage: $0 install | run PORT" >&2; exit 2 ;;
esac
