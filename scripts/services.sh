#!/usr/bin/env bash
# Local Redis and PostgreSQL for Eagle Eye, as plain processes with their data under .run/.
#   npm run services -- up|down|status|clean   (clean: stop and delete the data)
# Environment: EE_RUN_DIR (.run/dev), EE_REDIS_PORT (6390), EE_PG_PORT (5440),
#   EE_PG_USER (eagleeye), EE_PG_PASSWORD (eagleeye-dev), EE_PG_DATABASE (eagleeye): the owner, who
#   migrates; EE_PG_APP_USER (eagleeye_app), EE_PG_APP_PASSWORD (eagleeye-app-dev): the role the
#   apps connect as (owns nothing; `npm run migrate` grants it what the apps need);
#   EE_QUEUE_REDIS_PORT (unset): a second Redis for the BullMQ alerts queue (QUEUE_REDIS_URL), with
#   the same configuration (AOF, fsync before every reply) and its data in $EE_RUN_DIR/redis-queue.
# Users who run their own Redis/PostgreSQL skip this and set REDIS_URL / DATABASE_URL instead.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN_DIR=$(realpath -m "${EE_RUN_DIR:-.run/dev}")
REDIS_PORT=${EE_REDIS_PORT:-6390}
PG_PORT=${EE_PG_PORT:-5440}
QUEUE_REDIS_PORT=${EE_QUEUE_REDIS_PORT:-}
PG_USER=${EE_PG_USER:-eagleeye}
PG_PASSWORD=${EE_PG_PASSWORD:-eagleeye-dev}
PG_DATABASE=${EE_PG_DATABASE:-eagleeye}
PG_APP_USER=${EE_PG_APP_USER:-eagleeye_app}
PG_APP_PASSWORD=${EE_PG_APP_PASSWORD:-eagleeye-app-dev}
say() { printf '[services] %s\n' "$*"; }
die() { printf '[services] error: %s\n' "$*" >&2; exit 1; }
source scripts/lib.sh

ensure_binaries() {
  ee_ensure_system_packages "${EE_SERVICE_PROGRAMS[@]}"
  PG_BIN=$(ee_pg_bindir) || die "PostgreSQL server binaries (initdb, pg_ctl) not found after install"
}

# PostgreSQL refuses to run as root: as root, run it as the 'postgres' system user (from /, since
# the checkout may be a folder that user cannot enter).
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Where the cluster lives (data, socket, logs): $RUN_DIR/pg, unless that is a symbolic link. As
# root the 'postgres' user must reach it, which it cannot when the checkout sits in a folder others
# cannot traverse (root's home is mode 700); then the cluster lives in a folder of its own under
# /var/lib/eagle-eye, named by a hash of the run folder, and $RUN_DIR/pg points there, so that
# `down`, `clean` and anyone reading $RUN_DIR/pg/postgres.log find it the same way.
PG_OUTSIDE_ROOT=/var/lib/eagle-eye
pg_locate() {
  PG_DIR="$RUN_DIR/pg"
  if [ -L "$PG_DIR" ]; then PG_DIR=$(realpath -m "$PG_DIR"); fi
}

# Like pg_locate, and creates the folder (moving it out of reach of the checkout when needed).
pg_prepare() {
  pg_locate
  mkdir -p "$PG_DIR"
  [ "$(id -u)" = 0 ] || return 0
  as_pg true
  chown -R postgres "$PG_DIR"
  as_pg test -w "$PG_DIR" -a -x "$PG_DIR" && return 0
  [ -L "$RUN_DIR/pg" ] && die "the postgres user cannot write $PG_DIR; fix its owner or remove $RUN_DIR/pg"
  [ -f "$PG_DIR/data/PG_VERSION" ] && die "the postgres user cannot reach the cluster in $PG_DIR (a parent folder is not searchable?); make it searchable or remove $PG_DIR"
  local outside
  outside="$PG_OUTSIDE_ROOT/$(printf '%s' "$RUN_DIR" | sha256sum | cut -c1-12)"
  say "the postgres user cannot reach $RUN_DIR (a parent folder is not searchable); the cluster lives in $outside ($RUN_DIR/pg points there)"
  install -d -m 755 "$PG_OUTSIDE_ROOT"
  install -d -m 700 -o postgres "$outside"
  # whose it is, for whoever finds it later
  printf '%s\n' "$RUN_DIR" > "$outside/run-dir"
  rm -rf "$RUN_DIR/pg"
  ln -s "$outside" "$RUN_DIR/pg"
  PG_DIR=$outside
  as_pg test -w "$PG_DIR" || die "the postgres user cannot write $PG_DIR"
}

# redis_up [port] [folder under $RUN_DIR]: the state Redis, or (queue_redis_up) the queue's, both
# with deploy/redis/redis.conf (the same AOF/fsync policy)
redis_up() {
  local port=${1:-$REDIS_PORT} dir="$RUN_DIR/${2:-redis}"
  mkdir -p "$dir"
  if redis-cli -p "$port" ping >/dev/null 2>&1; then say "redis already running on 127.0.0.1:$port"; return; fi
  redis-server "$ROOT/deploy/redis/redis.conf" --port "$port" --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --daemonize yes
  for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && { say "redis up on 127.0.0.1:$port (data $dir)"; return; }; sleep 0.1; done
  die "redis did not start; see $dir/redis.log"
}
queue_redis_up() { [ -z "$QUEUE_REDIS_PORT" ] || redis_up "$QUEUE_REDIS_PORT" redis-queue; }

pg_up() {
  pg_prepare
  local data="$PG_DIR/data"
  if [ ! -f "$data/PG_VERSION" ]; then
    say "creating PostgreSQL cluster in $data"
    local pw="$PG_DIR/.pw"
    printf '%s\n' "$PG_PASSWORD" > "$pw"; [ "$(id -u)" = 0 ] && chown postgres "$pw"; chmod 600 "$pw"
    as_pg "$PG_BIN/initdb" -D "$data" -U "$PG_USER" --pwfile="$pw" --auth-local=scram-sha-256 \
      --auth-host=scram-sha-256 -E UTF8 --locale=C >"$PG_DIR/initdb.log" 2>&1 || die "initdb failed; see $PG_DIR/initdb.log"
    rm -f "$pw"
    echo "include_if_exists = 'eagle-eye.conf'" >> "$data/postgresql.conf"
  fi
  cp "$ROOT/deploy/postgres/postgresql.conf" "$data/eagle-eye.conf"
  [ "$(id -u)" = 0 ] && chown postgres "$data/eagle-eye.conf"
  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "postgres already running on 127.0.0.1:$PG_PORT"
  else
    as_pg "$PG_BIN/pg_ctl" -D "$data" -l "$PG_DIR/postgres.log" -w -t 60 \
      -o "-p $PG_PORT -k $PG_DIR" start >/dev/null || die "postgres did not start; see $PG_DIR/postgres.log"
    say "postgres up on 127.0.0.1:$PG_PORT (data $data)"
  fi
  if ! PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'" | grep -q 1; then
    PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "CREATE DATABASE \"$PG_DATABASE\"" >/dev/null
    say "created database $PG_DATABASE"
  fi
  if ! PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc \
      "SELECT 1 FROM pg_roles WHERE rolname = '$PG_APP_USER'" | grep -q 1; then
    PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -qc \
      "CREATE ROLE \"$PG_APP_USER\" LOGIN PASSWORD '$PG_APP_PASSWORD'" >/dev/null
    say "created the app role $PG_APP_USER"
  fi
}

redis_down() {
  local port
  for port in "$REDIS_PORT" $QUEUE_REDIS_PORT; do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
      redis-cli -p "$port" shutdown >/dev/null 2>&1 || true
      say "redis stopped (:$port)"
    fi
  done
}

pg_down() {
  pg_locate
  local data="$PG_DIR/data"
  [ -f "$data/PG_VERSION" ] || return 0
  PG_BIN=$(ee_pg_bindir) || return 0
  if as_pg "$PG_BIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$data" -m fast -w stop >/dev/null && say "postgres stopped"
  fi
}

# Stops both and deletes their data, including a cluster kept outside the checkout.
clean() {
  redis_down; pg_down
  pg_locate
  if [ "$PG_DIR" != "$RUN_DIR/pg" ] && [ -f "$PG_DIR/run-dir" ]; then rm -rf "$PG_DIR"; say "deleted $PG_DIR"; fi
  rm -rf "$RUN_DIR/pg" "$RUN_DIR/redis" "$RUN_DIR/redis-queue"
  say "deleted the data in $RUN_DIR"
}

case "${1:-status}" in
  up)
    ensure_binaries; redis_up; queue_redis_up; pg_up
    say "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
    [ -z "$QUEUE_REDIS_PORT" ] || say "QUEUE_REDIS_URL=redis://127.0.0.1:$QUEUE_REDIS_PORT (the alerts queue)"
    say "DATABASE_MIGRATION_URL=postgres://$PG_USER:***@127.0.0.1:$PG_PORT/$PG_DATABASE (owner)"
    say "DATABASE_URL=postgres://$PG_APP_USER:***@127.0.0.1:$PG_PORT/$PG_DATABASE (the apps)" ;;
  down) redis_down; pg_down ;;
  clean) clean ;;
  status)
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then say "redis: up (127.0.0.1:$REDIS_PORT)"; else say "redis: down"; fi
    if [ -n "$QUEUE_REDIS_PORT" ]; then
      if redis-cli -p "$QUEUE_REDIS_PORT" ping >/dev/null 2>&1; then say "queue redis: up (127.0.0.1:$QUEUE_REDIS_PORT)"; else say "queue redis: down"; fi
    fi
    if PGPASSWORD="$PG_PASSWORD" psql -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
      say "postgres: up (127.0.0.1:$PG_PORT)"; else say "postgres: down"; fi ;;
  *) die "usage: npm run services -- up|down|status|clean" ;;
esac
