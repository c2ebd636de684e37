#!/usr/bin/env bash
# A local Redis Cluster of three masters (no replicas) for tests and benchmarks, as plain processes
# with their data under .run/: redis-server --cluster-enabled yes on three ports, then
# redis-cli --cluster create (given one port: one master serving every slot, a benchmark baseline).
# Point the apps at it with REDIS_CLUSTER_NODES (printed by `up`).
#   bash scripts/redis-cluster.sh up|down|status|clean   (clean: stop and delete the data)
# Environment: EE_RUN_DIR (.run/dev), EE_REDIS_CLUSTER_PORTS (6395,6396,6397; each port + 10000 is
# its cluster bus port).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN_DIR=$(realpath -m "${EE_RUN_DIR:-.run/dev}")
IFS=',' read -r -a PORTS <<< "${EE_REDIS_CLUSTER_PORTS:-6395,6396,6397}"
DIR="$RUN_DIR/redis-cluster"
say() { printf '[redis-cluster] %s\n' "$*"; }
die() { printf '[redis-cluster] error: %s\n' "$*" >&2; exit 1; }

nodes() { local IFS=','; local out=(); for p in "${PORTS[@]}"; do out+=("127.0.0.1:$p"); done; echo "${out[*]}"; }
state() { redis-cli -p "${PORTS[0]}" cluster info 2>/dev/null | tr -d '\r' | sed -n 's/^cluster_state://p'; }

up() {
  command -v redis-server >/dev/null || die "redis-server is not installed (npm run services -- up installs it)"
  [ "${#PORTS[@]}" = 1 ] || [ "${#PORTS[@]}" -ge 3 ] ||
    die "redis-cli --cluster create needs three masters (or one port for a one-master cluster): EE_REDIS_CLUSTER_PORTS names ${#PORTS[@]}"
  for p in "${PORTS[@]}"; do
    mkdir -p "$DIR/$p"
    if redis-cli -p "$p" ping >/dev/null 2>&1; then continue; fi
    redis-server "$ROOT/deploy/redis/redis.conf" --port "$p" --dir "$DIR/$p" \
      --cluster-enabled yes --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
      --cluster-announce-ip 127.0.0.1 \
      --appendfsync everysec \
      --pidfile "$DIR/$p/redis.pid" --logfile "$DIR/$p/redis.log" --daemonize yes
  done
  for p in "${PORTS[@]}"; do
    for _ in $(seq 1 50); do redis-cli -p "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$p" ping >/dev/null 2>&1 || die "node $p did not start; see $DIR/$p/redis.log"
  done
  if [ "$(state)" != ok ]; then
    local known
    known=$(redis-cli -p "${PORTS[0]}" cluster info | tr -d '\r' | sed -n 's/^cluster_known_nodes://p')
    if [ "${known:-1}" = 1 ] && [ "${#PORTS[@]}" = 1 ]; then
      # one master serving every slot (a baseline for benchmarks; --cluster create wants three)
      redis-cli -p "${PORTS[0]}" cluster addslotsrange 0 16383 >/dev/null || die "CLUSTER ADDSLOTSRANGE failed"
    elif [ "${known:-1}" = 1 ]; then
      local args=()
      for p in "${PORTS[@]}"; do args+=("127.0.0.1:$p"); done
      redis-cli --cluster create "${args[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1 \
        || die "redis-cli --cluster create failed; see $DIR/create.log"
    fi
    for _ in $(seq 1 100); do [ "$(state)" = ok ] && break; sleep 0.1; done
    [ "$(state)" = ok ] || die "the cluster did not reach cluster_state:ok; see $DIR/*/redis.log"
  fi
  say "cluster up: REDIS_CLUSTER_NODES=$(nodes) (data $DIR)"
}

down() {
  for p in "${PORTS[@]}"; do
    redis-cli -p "$p" ping >/dev/null 2>&1 && redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
  done
  say "cluster stopped"
}

case "${1:-status}" in
  up) up ;;
  down) down ;;
  clean) down; rm -rf "$DIR"; say "deleted $DIR" ;;
  nodes) nodes ;;
  status) if [ "$(state)" = ok ]; then say "cluster: up ($(nodes))"; else s=$(state); say "cluster: ${s:-down}"; fi ;;
  *) die "usage: bash scripts/redis-cluster.sh up|down|status|clean|nodes" ;;
esac
