#!/usr/bin/env bash
# `npm test`: installs what is missing (npm packages; as root, the system packages: Redis, PostgreSQL,
# Chromium, openssl; see scripts/lib.sh), starts its own Redis and PostgreSQL on test ports, runs lint,
# the proto drift check, the type check, the build and every jest suite (unit, integration,
# end-to-end), then stops what it started. Extra arguments go to jest (for example a path filter).
# Environment: EE_TEST_REDIS_PORT (6391), EE_TEST_PG_PORT (5441), EE_TEST_SKIP_LINT=1 to skip lint,
# EE_TEST_QUICK=1 for a developer's inner loop: jest only (after a build), no lint or type check.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ee_ensure_system_packages "${EE_SERVICE_PROGRAMS[@]}" "${EE_TEST_PROGRAMS[@]}"
ee_ensure_deps

export EE_REDIS_PORT=${EE_TEST_REDIS_PORT:-6391}
export EE_PG_PORT=${EE_TEST_PG_PORT:-5441}
export EE_RUN_DIR=${EE_TEST_RUN_DIR:-.run/test-$EE_REDIS_PORT}
export EE_PG_DATABASE=eagleeye_test
stop_services() { bash scripts/services.sh down || true; }
if ! redis-cli -p "$EE_REDIS_PORT" ping >/dev/null 2>&1; then trap stop_services EXIT; fi
bash scripts/services.sh up
export REDIS_URL=redis://127.0.0.1:$EE_REDIS_PORT
export DATABASE_URL=postgres://eagleeye:eagleeye-dev@127.0.0.1:$EE_PG_PORT/eagleeye_test
export NODE_ENV=test

if [ "${EE_TEST_QUICK:-0}" = 1 ]; then
  ee_build || ee_say "build reported errors (quick mode goes on)"
  ee_say "jest (quick mode)"
  exec npx --no-install jest "$@"
fi
if [ "${EE_TEST_SKIP_LINT:-0}" != 1 ]; then
  ee_say "lint (eslint, prettier)"
  npx --no-install eslint . --max-warnings=0
  npx --no-install prettier --check . --log-level=warn
fi
ee_say "proto drift check"
tmp=$(mktemp -d)
bash scripts/proto-gen.sh "$tmp/generated" >/dev/null 2>&1 || { ee_say "proto generation failed"; bash scripts/proto-gen.sh "$tmp/generated"; exit 1; }
if ! diff -r "$tmp/generated" libs/contracts/src/generated >/dev/null; then
  ee_say "libs/contracts/src/generated differs from proto/: run \`npm run proto:gen\` and commit"; exit 1
fi
rm -rf "$tmp"
ee_say "type check"
npx --no-install tsc -p tsconfig.json --noEmit
ee_build
ee_say "jest (unit, integration, end-to-end)"
npx --no-install jest --ci "$@"
