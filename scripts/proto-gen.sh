#!/usr/bin/env bash
# Generates TypeScript types and the grpc-js service definition from proto/ (buf compiles the
# protos itself, so no protoc is needed). The output is committed; the tests check it for drift.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-libs/contracts/src/generated}
rm -rf "$out"
if [ "$out" != libs/contracts/src/generated ]; then
  sed "s#out: libs/contracts/src/generated#out: $out#" buf.gen.yaml > "$out-buf.gen.yaml"
  npx --no-install buf generate --template "$out-buf.gen.yaml"
  rm -f "$out-buf.gen.yaml"
else
  npx --no-install buf generate
fi
