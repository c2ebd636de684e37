#!/usr/bin/env bash
# Local Redis and PostgreSQL for Eagle Eye, as plain processes with their data under .run/.
#   npm run services -- up|down|status
# Environment: EE_RUN_DIR (.run/dev), EE_REDIS_PORT (6390), EE_PG_PORT (5440),
#   EE_PG_USER (eagleeye), EE_PG_PASSWORD (eagleeye-dev), EE_PG_DATABASE (eagleeye).
# Users who run their own Redis/PostgreSQL skip this and set REDIS_URL / DATABASE_URL instead.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN_DIR=$(realpath -m "${EE_RUN_DIR:-.run/dev}")
REDIS_PORT=${EE_REDIS_PORT:-6390}
PG_PORT=${EE_PG_PORT:-5440}
PG_USER=${EE_PG_USER:-eagleeye}
PG_PASSWORD=${EE_PG_PASSWORD:-eagleeye-dev}
PG_DATABASE=${EE_PG_DATABASE:-eagleeye}
say() { printf '[services] %s\n' "$*"; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

apt_install() {
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $* with apt-get (one time)"
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1; then
      apt-get update -qq >/dev/null 2>&1 || true
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null || die "apt-get install $* failed"
    fi
  else
    die "$1 is not installed. Install it (Debian/Ubuntu: sudo apt-get install -y $*) or set REDIS_URL/DATABASE_URL to servers you run."
  fi
}

pg_bindir() {
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return; }; done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ] && { pg_config --bindir; return; }
  return 1
}

ensure_binaries() {
  command -v redis-server >/dev/null || apt_install redis-server
  pg_bindir >/dev/null || apt_install postgresql
  PG_BIN=$(pg_bindir) || die "PostgreSQL server binaries (initdb, pg_ctl) not found after install"
}

# PostgreSQL refuses to run as root: as root, run it as the 'postgres' system user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

redis_up() {
  mkdir -p "$RUN_DIR/redis"
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then say "redis already running on 127.0.0.1:$REDIS_PORT"; return; fi
  redis-server "$ROOT/deploy/redis/redis.conf" --port "$REDIS_PORT" --dir "$RUN_DIR/redis" \
    --pidfile "$RUN_DIR/redis/redis.pid" --logfile "$RUN_DIR/redis/redis.log" --daemonize yes
  for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && { say "redis up on 127.0.0.1:$REDIS_PORT (data $RUN_DIR/redis)"; return; }; sleep 0.1; done
  die "redis did not start; see $RUN_DIR/redis/redis.log"
}

pg_up() {
  local data="$RUN_DIR/pg/data"
  mkdir -p "$RUN_DIR/pg"
  [ "$(id -u)" = 0 ] && { as_pg true; chown -R postgres "$RUN_DIR/pg"; }
  as_pg test -w "$RUN_DIR/pg" || die "the postgres user cannot write $RUN_DIR/pg (a parent folder is not searchable?); move the checkout or set DATABASE_URL"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating PostgreSQL cluster in $data"
    local pw="$RUN_DIR/pg/.pw"
    printf '%s\n' "$PG_PASSWORD" > "$pw"; [ "$(id -u)" = 0 ] && chown postgres "$pw"; chmod 600 "$pw"
    as_pg "$PG_BIN/initdb" -D "$data" -U "$PG_USER" --pwfile="$pw" --auth-local=scram-sha-256 \
      --auth-host=scram-sha-256 -E UTF8 --locale=C >"$RUN_DIR/pg/initdb.log" 2>&1 || die "initdb failed; see $RUN_DIR/pg/initdb.log"
    rm -f "$pw"
    echo "include_if_exists = 'eagle-eye.conf'" >> "$data/postgresql.conf"
  fi
  cp "$ROOT/deploy/postgres/postgresql.conf" "$data/eagle-eye.conf"
  [ "$(id -u)" = 0 ] && chown postgres "$data/eagle-eye.conf"
  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "postgres already running on 127.0.0.1:$PG_PORT"
  else
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$RUN_DIR/pg/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -k $RUN_DIR/pg" start >/dev/null || die "postgres did not start; see $RUN_DIR/pg/postgres.log"
    say "postgres up on 127.0.0.1:$PG_PORT (data $data)"
  fi
  if ! PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'" | grep -q 1; then
    PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE \"$PG_DATABASE\"" >/dev/null
    say "created database $PG_DATABASE"
  fi
}

redis_down() {
  if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
    say "redis stopped"
  fi
}

pg_down() {
  local data="$RUN_DIR/pg/data"
  [ -f "$data/PG_VERSION" ] || return 0
  PG_BIN=$(pg_bindir) || return 0
  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null && say "postgres stopped"
  fi
}

case "${1:-status}" in
  up)
    ensure_binaries; redis_up; pg_up
    say "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    say "DATABASE_URL=postgres://$PG_USER:***@127.0.0.1:$PG_PORT/$PG_DATABASE" ;;
  down) redis_down; pg_down ;;
  status)
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then say "redis: up (127.0.0.1:$REDIS_PORT)"; else say "redis: down"; fi
    if PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
      say "postgres: up (127.0.0.1:$PG_PORT)"; else say "postgres: down"; fi ;;
  *) die "usage: npm run services -- up|down|status" ;;
esac
