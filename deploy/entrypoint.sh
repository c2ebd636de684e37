#!/bin/sh
# The image's entry point (deploy/Dockerfile): the first argument picks what runs.
#   ingest | detector | alert-worker | console | simulator   an app (dist/apps/<app>/src/main.js)
#   migrate                                                   apply the SQL migrations, then exit
# Anything else runs as a command (for example `node -v`). Run from the install's root folder.
set -eu
cd "$(dirname "$0")/.."
case "${1:-help}" in
  ingest | detector | alert-worker | console | simulator)
    exec node -r ./scripts/register-paths.js "dist/apps/$1/src/main.js" ;;
  migrate)
    exec node -r ./scripts/register-paths.js dist/libs/db/src/migrate.cli.js ;;
  help | -h | --help)
    echo "usage: <ingest|detector|alert-worker|console|simulator|migrate>" >&2
    exit 64 ;;
  *)
    exec "$@" ;;
esac
