#!/usr/bin/env bash
# `npm run bench` / `npm run bench:smoke`: installs what is missing, builds, and runs the benchmark
# suite (load-tests/src/bench.ts). It starts its own Redis and PostgreSQL under .run/bench (ports
# 6415/5465, or --redis-port/--pg-port) unless REDIS_URL and DATABASE_URL are both set, starts every
# app itself, and stops everything it started. Arguments go to the suite (`-- --help` lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ee_ensure_deps
ee_build || ee_say "the build reported type errors (the emitted JavaScript is used anyway)"
exec node -r ./scripts/register-paths.js dist/load-tests/src/bench.js "$@"
