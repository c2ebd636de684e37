#!/usr/bin/env bash
# `npm run stack`: installs what is missing (npm packages; as root, the system packages: Redis,
# PostgreSQL, curl; see scripts/lib.sh), starts Redis and PostgreSQL (unless REDIS_URL and
# DATABASE_URL point at your own; EE_QUEUE_REDIS_PORT: a second Redis for the alerts queue), migrates, seeds the demo tenants, starts every app and waits
# until each is ready. `npm run demo` does the same and streams a live simulated city through it.
# Ctrl-C stops everything this script started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
MODE=${1:-stack}
RUN_DIR=${EE_RUN_DIR:-.run/dev}
mkdir -p "$RUN_DIR/logs"
if [ -n "${REDIS_URL:-}" ] && [ -n "${DATABASE_URL:-}" ]; then
  ee_ensure_system_packages "${EE_STACK_PROGRAMS[@]}"
else
  ee_ensure_system_packages "${EE_STACK_PROGRAMS[@]}" "${EE_SERVICE_PROGRAMS[@]}"
fi
ee_ensure_deps
ee_build

started_services=0
if [ -n "${REDIS_URL:-}" ] && [ -n "${DATABASE_URL:-}" ]; then
  ee_say "using REDIS_URL and DATABASE_URL from the environment"
else
  if ! redis-cli -p "${EE_REDIS_PORT:-6390}" ping >/dev/null 2>&1; then started_services=1; fi
  bash scripts/services.sh up
  export REDIS_URL=${REDIS_URL:-redis://127.0.0.1:${EE_REDIS_PORT:-6390}}
  # EE_QUEUE_REDIS_PORT: the alerts queue on a second Redis (services.sh starts it)
  if [ -n "${EE_QUEUE_REDIS_PORT:-}" ]; then
    export QUEUE_REDIS_URL=${QUEUE_REDIS_URL:-redis://127.0.0.1:$EE_QUEUE_REDIS_PORT}
  fi
  # migrations run as the owner; the apps connect as the app role, which owns nothing
  if [ -z "${DATABASE_URL:-}" ]; then
    export DATABASE_MIGRATION_URL=postgres://${EE_PG_USER:-eagleeye}:${EE_PG_PASSWORD:-eagleeye-dev}@127.0.0.1:${EE_PG_PORT:-5440}/${EE_PG_DATABASE:-eagleeye}
    export DATABASE_URL=postgres://${EE_PG_APP_USER:-eagleeye_app}:${EE_PG_APP_PASSWORD:-eagleeye-app-dev}@127.0.0.1:${EE_PG_PORT:-5440}/${EE_PG_DATABASE:-eagleeye}
  fi
fi
# A console signing secret that survives restarts of the demo (so sessions stay valid).
if [ -z "${CONSOLE_JWT_SECRET:-}" ]; then
  [ -f "$RUN_DIR/console-jwt-secret" ] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' > "$RUN_DIR/console-jwt-secret"
  export CONSOLE_JWT_SECRET=$(cat "$RUN_DIR/console-jwt-secret")
fi
export LOG_FORMAT=${LOG_FORMAT:-json}

ee_say "migrating and seeding demo tenants"
node -r ./scripts/register-paths.js dist/libs/db/src/demo-seed.cli.js > "$RUN_DIR/demo-credentials.txt"

APPS=(ingest detector alert-worker console)
[ "$MODE" = demo ] && APPS+=(simulator)
declare -A PORTS=([ingest]=${INGEST_HTTP_PORT:-9101} [detector]=${DETECTOR_HTTP_PORT:-9102} [alert-worker]=${ALERT_WORKER_HTTP_PORT:-9103} [console]=${CONSOLE_HTTP_PORT:-8080} [simulator]=${SIMULATOR_HTTP_PORT:-9105})
PIDS=()
stopping=0
stop_all() {
  [ $stopping = 1 ] && return; stopping=1
  trap - INT TERM EXIT
  ee_say "stopping apps"
  if [ -n "${TAIL_PID:-}" ]; then kill -TERM "$TAIL_PID" 2>/dev/null || true; fi
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $started_services = 1 ]; then bash scripts/services.sh down; fi
  ee_say "stopped"
}
trap 'stop_all; exit 130' INT TERM
trap stop_all EXIT

for app in "${APPS[@]}"; do
  if [ "$app" = simulator ]; then
    # the demo city streams through the public gRPC contract with the demo carriers' keys; its
    # progress line (events/s, alerts, lag) goes to a plain file this terminal follows below
    export SIMULATOR_MODE=${SIMULATOR_MODE:-demo}
    export SIMULATOR_INGEST_URL=${SIMULATOR_INGEST_URL:-127.0.0.1:${INGEST_GRPC_PORT:-50051}}
    export SIMULATOR_CONSOLE_URL=${SIMULATOR_CONSOLE_URL:-http://127.0.0.1:${CONSOLE_HTTP_PORT:-8080}}
    export SIMULATOR_PROGRESS_FILE=${SIMULATOR_PROGRESS_FILE:-$RUN_DIR/logs/simulator-progress.log}
    export SIMULATOR_GROUND_TRUTH=${SIMULATOR_GROUND_TRUTH:-$RUN_DIR/demo-ground-truth.jsonl}
    : > "$SIMULATOR_PROGRESS_FILE"
  fi
  node -r ./scripts/register-paths.js "dist/apps/$app/src/main.js" >>"$RUN_DIR/logs/$app.log" 2>&1 &
  PIDS+=($!)
  ee_say "started $app (pid $!, log $RUN_DIR/logs/$app.log)"
done
for i in "${!APPS[@]}"; do
  app=${APPS[$i]}; port=${PORTS[$app]}
  # 30 s to become ready; longer while the app reports progress of start-up work (the detector
  # moving keys to another REDIS_KEY_GROUPS logs a "key layout" line every two seconds)
  log="$RUN_DIR/logs/$app.log"; idle=0; seen=$(stat -c %s "$log" 2>/dev/null || echo 0); said=0
  while [ $idle -lt 150 ]; do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "${PIDS[$i]}" 2>/dev/null || { ee_say "$app exited; last lines of its log:"; tail -5 "$log"; exit 1; }
    sleep 0.2
    idle=$((idle + 1))
    size=$(stat -c %s "$log" 2>/dev/null || echo 0)
    if [ "$size" != "$seen" ]; then
      seen=$size
      line=$(tail -n 1 "$log" | grep -o 'key layout [^"]*' || true)
      if [ -n "$line" ]; then
        idle=0
        if [ $((SECONDS - said)) -ge 5 ]; then ee_say "$app: $line"; said=$SECONDS; fi
      fi
    fi
  done
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { ee_say "$app is not ready on :$port"; exit 1; }
  ee_say "$app ready: http://127.0.0.1:$port/healthz /readyz /metrics"
done

echo
ee_say "Eagle Eye is running ($MODE)."
ee_say "Console: http://127.0.0.1:${PORTS[console]}/   gRPC ingest: 127.0.0.1:${INGEST_GRPC_PORT:-50051}"
cat "$RUN_DIR/demo-credentials.txt"
ee_say "Ctrl-C stops everything."
if [ "$MODE" = demo ]; then
  ee_say "simulator progress (also in $SIMULATOR_PROGRESS_FILE; ground truth in $SIMULATOR_GROUND_TRUTH):"
  tail -n +1 -F "$SIMULATOR_PROGRESS_FILE" 2>/dev/null &
  TAIL_PID=$!
fi
# Wait for any app to exit (or for Ctrl-C); an app dying takes the stack down loudly.
wait -n "${PIDS[@]}" || true
ee_say "an app exited unexpectedly; see $RUN_DIR/logs/"
exit 1
