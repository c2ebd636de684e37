#!/usr/bin/env bash
# `npm run train`: trains the caller-risk model from the labelled Sichuan data (shared/data/sichuan,
# beside the checkout) and writes apps/detector/models/caller-risk.json. Reproducible: the same data
# and seed give the same file. Installs Debian's python3-sklearn when missing (as root).
#   npm run train -- [--seed 1] [--folds 5] [--days 3] [--per-day 100] [--data PATH] [--out PATH]
#     [--target-precision 0.95] [--exclude-fold K]  (K: a fold left out entirely, for `npm run eval -- --source sichuan`)
#     [--feedback FILE | --feedback-carrier ID] [--feedback-weight 1]
#   Feedback: labelled numbers from a carrier's reviewed alerts and reports, a file written by
#   apps/simulator/src/feedback-export.cli.ts, or exported here from DATABASE_URL for --feedback-carrier.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
SEED=1 FOLDS=5 DAYS=3 PER_DAY=100 DATA="" OUT=apps/detector/models/caller-risk.json TARGET=0.95 EXCLUDE=-1
FEEDBACK="" FEEDBACK_CARRIER="" FEEDBACK_WEIGHT=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seed) SEED=$2; shift 2 ;;
    --folds) FOLDS=$2; shift 2 ;;
    --days) DAYS=$2; shift 2 ;;
    --per-day) PER_DAY=$2; shift 2 ;;
    --data) DATA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --target-precision) TARGET=$2; shift 2 ;;
    --exclude-fold) EXCLUDE=$2; shift 2 ;;
    --feedback) FEEDBACK=$2; shift 2 ;;
    --feedback-carrier) FEEDBACK_CARRIER=$2; shift 2 ;;
    --feedback-weight) FEEDBACK_WEIGHT=$2; shift 2 ;;
    *) ee_say "unknown option $1 (see the header of scripts/train.sh)"; exit 2 ;;
  esac
done
# Debian's scikit-learn is built for the system interpreter, not for any other python3 on PATH.
PY=/usr/bin/python3
if ! "$PY" -c 'import sklearn.linear_model' >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    ee_say "installing python3-sklearn with apt-get (one time)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-sklearn >/dev/null; }
  else
    ee_say "training needs scikit-learn for $PY: sudo apt-get install -y python3-sklearn"; exit 1
  fi
fi
ee_ensure_deps
ee_build
work=.run/train
mkdir -p "$work"
node -r ./scripts/register-paths.js dist/apps/simulator/src/train-samples.cli.js --seed "$SEED" --folds "$FOLDS" \
  --days "$DAYS" --per-day "$PER_DAY" ${DATA:+--data "$DATA"} --out "$work/samples.csv"
if [ -n "$FEEDBACK_CARRIER" ]; then
  [ -z "$FEEDBACK" ] || { ee_say "--feedback and --feedback-carrier exclude each other"; exit 2; }
  FEEDBACK="$work/feedback-$FEEDBACK_CARRIER.csv"
  node -r ./scripts/register-paths.js dist/apps/simulator/src/feedback-export.cli.js --carrier "$FEEDBACK_CARRIER" \
    --seed "$SEED" --folds "$FOLDS" --out "$FEEDBACK"
fi
# one thread: the same samples always give the same trees
OMP_NUM_THREADS=1 "$PY" scripts/train/train_caller_model.py --samples "$work/samples.csv" --out "$OUT" \
  --seed "$SEED" --target-precision "$TARGET" --exclude-fold "$EXCLUDE" \
  ${FEEDBACK:+--feedback "$FEEDBACK" --feedback-weight "$FEEDBACK_WEIGHT"}
