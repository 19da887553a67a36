#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: own data directory, non-root user, 127.0.0.1 only.
#   eval "$(scripts/postgres.sh start)"   # prints export lines (HOTLINE_TEST_POSTGRES_URL…)
#   scripts/postgres.sh stop "$HOTLINE_PG_DIR"
set -euo pipefail

bin_dir() {
  local initdb
  initdb=$(ls -d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
  [ -n "$initdb" ] || { echo "PostgreSQL is not installed (run scripts/system-deps.sh postgres)" >&2; exit 1; }
  dirname "$initdb"
}

as_owner() {
  # PostgreSQL refuses to run as root: use the 'postgres' system user when we are root.
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "${1:-}" in
  start)
    BIN=$(bin_dir)
    DIR=$(mktemp -d /tmp/hotline-pg.XXXXXX)
    PORT=$(free_port)
    if [ "$(id -u)" -eq 0 ]; then
      id postgres >/dev/null 2>&1 || useradd --system --home "$DIR" postgres
      chown postgres "$DIR"
    fi
    as_owner "$BIN/initdb" -D "$DIR/data" -U hotline -A trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }
    as_owner "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U hotline hotline_test
    echo "export HOTLINE_PG_DIR=$DIR"
    echo "export HOTLINE_TEST_POSTGRES_URL=postgresql+psycopg://hotline@127.0.0.1:$PORT/hotline_test"
    ;;
  stop)
    DIR=${2:?usage: postgres.sh stop DIR}
    BIN=$(bin_dir)
    as_owner "$BIN/pg_ctl" -D "$DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
    ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
