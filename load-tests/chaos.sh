#!/usr/bin/env bash
# `npm run chaos -- --scenario <name>|all`: installs what is missing, builds, and runs the
# fault-injection suite (load-tests/src/chaos). It starts its own Redis and PostgreSQL under
# .run/chaos (ports 6417/5467, or --redis-port/--pg-port/--run-dir) unless REDIS_URL and
# DATABASE_URL are both set (then the Redis and PostgreSQL faults are refused), starts every app
# itself and stops everything it started. `-- --help` lists the scenarios.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ee_ensure_deps
ee_build || ee_say "the build reported type errors (the emitted JavaScript is used anyway)"
exec node -r ./scripts/register-paths.js dist/load-tests/src/chaos/chaos.js "$@"
