#!/usr/bin/env python3
"""Step 2 of `npm run train`: fits the caller-risk model on the samples step 1 wrote.

Gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier) with cross-validation
grouped by number (a number's samples are all in one fold), Platt scaling fitted on the
out-of-fold margins, a decision threshold chosen on the out-of-fold numbers for the target
precision, then one model fitted on every sample and exported as JSON for the detector to
evaluate in-process (libs/scoring/src/caller-model.ts). Same samples and seed, same file.

Feedback (--feedback, written by apps/simulator/src/feedback-export.cli.ts): labelled numbers from
the carrier's reviewed alerts and reports, in the same format. They join every fold's training set
(fold by their token, never predicting themselves), each number weighing --feedback-weight
published numbers; the published data's out-of-fold figures, Platt scaling and threshold are still
computed on the published numbers alone, and the feedback's own out-of-fold figures are reported
beside them. No feedback rows: exactly the model of the published data.
"""
import argparse
import hashlib
import json
import os
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

PARAMS = dict(
    max_iter=120,
    learning_rate=0.1,
    max_leaf_nodes=15,
    min_samples_leaf=40,
    l2_regularization=1.0,
    early_stopping=False,
)


def log(msg):
    print(f"train: {msg}", file=sys.stderr, flush=True)


def read_samples(path):
    with open(path) as f:
        meta_line = f.readline().strip()
        header = f.readline().strip().split(",")
    meta = dict(kv.split("=", 1) for kv in meta_line.lstrip("# ").split())
    data = np.loadtxt(path, delimiter=",", skiprows=2, ndmin=2)
    return meta, header, data


def read_feedback(path, features):
    """Feedback samples (same columns as the published ones), or None when the file has no rows."""
    with open(path) as f:
        meta_line = f.readline().strip()
        header = f.readline().strip().split(",")
        empty = not f.readline().strip()
    if header[5:] != features:
        raise SystemExit(f"train: {path} has other features than the samples ({len(header) - 5} vs {len(features)}): export it again")
    if empty:
        return None
    data = np.loadtxt(path, delimiter=",", skiprows=2, ndmin=2)
    meta = dict(kv.split("=", 1) for kv in meta_line.lstrip("# ").split()[1:])
    return meta, data


def fit(X, y, w, seed):
    clf = HistGradientBoostingClassifier(random_state=seed, **PARAMS)
    clf.fit(X, y, sample_weight=w)
    return clf


def number_scores(numbers, day, p, day_limit):
    """Highest probability each number reached within its first `day_limit` active days."""
    best = {}
    for n, d, q in zip(numbers, day, p):
        if d < day_limit and q > best.get(n, -1.0):
            best[n] = q
    return best


def prf(best, labels, t):
    tp = sum(1 for n, q in best.items() if q >= t and labels[n] == 1)
    fp = sum(1 for n, q in best.items() if q >= t and labels[n] == 0)
    pos = sum(1 for n in best if labels[n] == 1)
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / pos if pos else 0.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1, tp, fp


def choose_threshold(best, labels, target):
    """Lowest threshold whose out-of-fold number precision reaches the target (fewest misses)."""
    cands = sorted(set(best.values()))
    chosen = None
    for t in reversed(cands):
        prec, _, _, tp, _ = prf(best, labels, t)
        if tp >= 5 and prec >= target:
            chosen = t
    return chosen if chosen is not None else max(cands)


def export_tree(pred):
    nodes = pred.nodes
    n = len(nodes)
    value = [float(v) for v in nodes["value"]]
    count = [float(c) for c in nodes["count"]]
    # expected value of every internal node (count-weighted mean of its children), bottom-up, so
    # path contributions add up exactly to the leaf value
    order = sorted(range(n), key=lambda i: -int(nodes["depth"][i]))
    for i in order:
        if not nodes["is_leaf"][i]:
            l, r = int(nodes["left"][i]), int(nodes["right"][i])
            tot = count[l] + count[r]
            value[i] = (value[l] * count[l] + value[r] * count[r]) / tot if tot else 0.0
    return {
        "f": [-1 if nodes["is_leaf"][i] else int(nodes["feature_idx"][i]) for i in range(n)],
        "t": [0.0 if nodes["is_leaf"][i] else float(nodes["num_threshold"][i]) for i in range(n)],
        "l": [int(nodes["left"][i]) for i in range(n)],
        "r": [int(nodes["right"][i]) for i in range(n)],
        "m": [int(nodes["missing_go_to_left"][i]) for i in range(n)],
        "v": value,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--target-precision", type=float, default=0.95)
    ap.add_argument("--exclude-fold", type=int, default=-1, help="leave this fold out entirely (for evaluation)")
    ap.add_argument("--feedback", help="labelled feedback samples (feedback-export.cli.js)")
    ap.add_argument("--feedback-weight", type=float, default=1.0, help="weight of one feedback number, in published numbers")
    args = ap.parse_args()

    meta, header, data = read_samples(args.samples)
    if args.exclude_fold >= 0:
        data = data[data[:, 1] != args.exclude_fold]
        # renumber the remaining folds 0..k-2
        data[:, 1] = np.where(data[:, 1] > args.exclude_fold, data[:, 1] - 1, data[:, 1])
        log(f"fold {args.exclude_fold} left out for evaluation")
    features = header[5:]
    numbers, folds, y, day, w = (data[:, i] for i in range(5))
    numbers = numbers.astype(int)
    y = y.astype(int)
    X = data[:, 5:]
    k = int(folds.max()) + 1
    labels = {int(n): int(l) for n, l in zip(numbers, y)}
    log(f"{len(y)} samples of {len(labels)} numbers ({sum(labels.values())} fraud), {len(features)} features, {k} folds grouped by number")

    fb = read_feedback(args.feedback, features) if args.feedback else None
    if fb is not None:
        fb_meta, fb_data = fb
        fb_numbers = fb_data[:, 0].astype(int)
        if set(fb_numbers) & set(labels):
            raise SystemExit("train: feedback numbers overlap the published numbers' ids")
        # with a fold left out for evaluation there is one fold fewer: feedback folds wrap around
        fb_folds = fb_data[:, 1].astype(int) % k
        fb_y = fb_data[:, 2].astype(int)
        fb_w = fb_data[:, 4] * args.feedback_weight
        fb_X = fb_data[:, 5:]
        fb_labels = {int(n): int(l) for n, l in zip(fb_numbers, fb_y)}
        log(
            f"feedback of carrier {fb_meta.get('carrier')}: {len(fb_y)} samples of {len(fb_labels)} numbers "
            f"({sum(fb_labels.values())} fraud), each number weighing {args.feedback_weight:g} published numbers"
        )

    oof = np.zeros(len(y))
    fb_oof = np.zeros(len(fb_y)) if fb is not None else None
    for f in range(k):
        tr, te = folds != f, folds == f
        if fb is None:
            clf = fit(X[tr], y[tr], w[tr], args.seed)
        else:
            ftr = fb_folds != f
            clf = fit(np.vstack([X[tr], fb_X[ftr]]), np.concatenate([y[tr], fb_y[ftr]]), np.concatenate([w[tr], fb_w[ftr]]), args.seed)
            fb_oof[fb_folds == f] = clf._raw_predict(fb_X[fb_folds == f])[:, 0]
        oof[te] = clf._raw_predict(X[te])[:, 0] if hasattr(clf, "_raw_predict") else clf.decision_function(X[te])
        log(f"fold {f + 1}/{k}: fitted on {int(tr.sum())} samples, predicted {int(te.sum())}")

    platt = LogisticRegression(C=1e6)
    platt.fit(oof.reshape(-1, 1), y, sample_weight=w)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    p_oof = 1 / (1 + np.exp(-(a * oof + b)))
    auc = float(roc_auc_score(y, p_oof, sample_weight=w))

    best1 = number_scores(numbers, day, p_oof, 1)
    best_all = number_scores(numbers, day, p_oof, 10**9)
    t = choose_threshold(best1, labels, args.target_precision)
    p1, r1, f1, tp1, fp1 = prf(best1, labels, t)
    pa, ra, fa, _, _ = prf(best_all, labels, t)
    best_f1 = max(prf(best1, labels, q)[2] for q in sorted(set(best1.values()))[::10] + [t])
    # calibration table: mean predicted vs observed fraud share per decile of the OOF probability
    edges = np.quantile(p_oof, np.linspace(0, 1, 11))
    calib = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        sel = (p_oof >= lo) & (p_oof <= hi)
        if sel.any():
            calib.append([round(float(np.average(p_oof[sel], weights=w[sel])), 4), round(float(np.average(y[sel], weights=w[sel])), 4)])
    metrics = {
        "oof_sample_auc": round(auc, 4),
        "first_day_precision": round(p1, 4),
        "first_day_recall": round(r1, 4),
        "first_day_f1": round(f1, 4),
        "first_day_flagged": {"fraud": tp1, "normal": fp1},
        "first_day_best_f1_any_threshold": round(best_f1, 4),
        "all_days_precision": round(pa, 4),
        "all_days_recall": round(ra, 4),
        "all_days_f1": round(fa, 4),
        "calibration_deciles_pred_vs_observed": calib,
    }
    log(f"out-of-fold: sample AUC {auc:.4f}; threshold P >= {t:.4f} for precision >= {args.target_precision}")
    log(f"out-of-fold numbers, first active day: precision {p1:.3f} recall {r1:.3f} F1 {f1:.3f} (best F1 at any threshold {best_f1:.3f})")
    log(f"out-of-fold numbers, all replayed days: precision {pa:.3f} recall {ra:.3f} F1 {fa:.3f}")
    if fb is not None:
        fb_p = 1 / (1 + np.exp(-(a * fb_oof + b)))
        fb_best = number_scores(fb_numbers, np.zeros(len(fb_y)), fb_p, 1)
        fp_, fr_, ff_, ftp, ffp = prf(fb_best, fb_labels, t)
        both = len(set(fb_y)) == 2
        fb_auc = float(roc_auc_score(fb_y, fb_p, sample_weight=fb_w)) if both else None
        metrics["feedback_oof"] = {
            "numbers": len(fb_labels),
            "fraud": sum(fb_labels.values()),
            "sample_auc": round(fb_auc, 4) if fb_auc is not None else None,
            "precision": round(fp_, 4),
            "recall": round(fr_, 4),
            "f1": round(ff_, 4),
            "flagged": {"fraud": ftp, "normal": ffp},
        }
        log(
            f"out-of-fold feedback numbers at that threshold: precision {fp_:.3f} recall {fr_:.3f} F1 {ff_:.3f}"
            + (f", sample AUC {fb_auc:.4f}" if fb_auc is not None else " (one class only: no AUC)")
        )
        final = fit(np.vstack([X, fb_X]), np.concatenate([y, fb_y]), np.concatenate([w, fb_w]), args.seed)
    else:
        final = fit(X, y, w, args.seed)
    baseline = float(np.ravel(final._baseline_prediction)[0])
    trees = [export_tree(it[0]) for it in final._predictors]
    # parity vectors: a spread of real samples with the trainer's own predictions
    idx = np.linspace(0, len(y) - 1, 200).astype(int)
    raw = final._raw_predict(X[idx])[:, 0]
    parity = [
        {"x": [float(v) for v in X[i]], "raw": float(r), "p": float(1 / (1 + np.exp(-(a * r + b))))}
        for i, r in zip(idx, raw)
    ]
    body = {
        "format": "eagle-eye.caller-model/1",
        "version": "",
        "features": features,
        "baseline": baseline,
        "trees": trees,
        "calibration": {"kind": "platt", "a": a, "b": b},
        "thresholds": {"suspect": t, "targetPrecision": args.target_precision},
        "metrics": metrics,
        "training": {
            "dataSha256": meta.get("data_sha256"),
            "samplesSha256": hashlib.sha256(open(args.samples, "rb").read()).hexdigest(),
            "seed": args.seed,
            "numbers": len(labels),
            "samples": int(len(y)),
            "calls": int(meta.get("calls", 0)),
            "folds": k,
            "excludedFold": args.exclude_fold if args.exclude_fold >= 0 else None,
            "model": "sklearn HistGradientBoostingClassifier",
            "params": PARAMS,
        },
        "parity": parity,
    }
    if fb is not None:
        body["training"]["feedback"] = {
            "carrier": fb_meta.get("carrier"),
            "samplesSha256": hashlib.sha256(open(args.feedback, "rb").read()).hexdigest(),
            "numbers": len(fb_labels),
            "fraud": sum(fb_labels.values()),
            "samples": int(len(fb_y)),
            "weight": args.feedback_weight,
        }
    # letters only: a version travels in alert reasons, where six digits in a row read as a phone number
    raw = int.from_bytes(hashlib.sha256(json.dumps(body, sort_keys=True).encode()).digest()[:8], "big")
    letters = "abcdefghjkmnpqrstuvwxyz"
    digest = ""
    for _ in range(12):
        raw, r = divmod(raw, len(letters))
        digest += letters[r]
    body["version"] = f"caller-risk-{digest}"
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(body, f, separators=(",", ":"))
        f.write("\n")
    log(f"model {body['version']}: {len(trees)} trees -> {args.out}")


if __name__ == "__main__":
    main()
