"""What every metric costs on wide encodings: seconds and peak memory at L = 256, 1,024 and
2,048 latents on a 10,000-row table (issue 27: self-supervised features have 512-2,048).

Run ``python benchmarks/wide_codes.py`` (every built-in metric; a metric that exceeds
``--budget`` seconds at one width is not tried at wider ones and is reported as
``over budget``); ``--quick`` checks the script in seconds with L = 8 and 16 on 500 rows and
a few metrics.  Options: ``--widths 256,1024,2048``, ``--rows 10000``, ``--metrics mig,...``
(default all), ``--budget 600`` and ``--out`` (default ``benchmarks/wide_codes.csv``; with
``--quick`` a temporary file).  Points already in ``--out`` (same metric, width and rows) are
kept and not measured again, so a stopped run goes on where it stopped; ``--fresh``
measures them again.

The table: ``--rows`` distinct factor vectors of the dSprites grid (5 factors), encoded by
the ideal code (one latent per factor, noise 0.1) beside ``L - 5`` latents of standard
normal noise, the whole rotated by a random orthogonal matrix, so every latent mixes a
little of every factor, as a wide learned feature does.  Each metric runs once per width
in a fresh process on one thread (as a sweep's cell) with its default parameters, through
its registry spec; the process's wall seconds for the call and its peak resident memory
(``ru_maxrss``, the table included) are recorded.  A call that raises is recorded with its
error's first line: the metric does not apply there, and says why.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COLUMNS = ["metric", "latents", "rows", "seconds", "peak_mb", "status"]


def _table(rows: int, latents: int, seed: int = 0):
    import numpy as np

    from benchmark import FactorSpace, from_arrays

    rng = np.random.default_rng(seed)
    space = FactorSpace.named("dsprites")
    index = rng.choice(int(np.prod(space.sizes)), size=rows, replace=False)
    factors = np.stack(np.unravel_index(index, space.sizes), axis=1)
    ideal = factors / (np.asarray(space.sizes) - 1.0) + 0.1 * rng.standard_normal(factors.shape)
    codes = np.hstack([ideal, rng.standard_normal((rows, max(latents - factors.shape[1], 0)))])
    rotation, _ = np.linalg.qr(rng.standard_normal((codes.shape[1], codes.shape[1])))
    return from_arrays(factors, codes @ rotation, factor_names=space.names, factor_sizes=space.sizes)


def _one(metric: str, latents: int, rows: int) -> dict:
    """Run in the child process: one metric on one table; JSON on stdout."""
    import resource

    from benchmark.information import limit_threads
    from benchmark.runner.registry import get_metric

    limit_threads(1)
    rep = _table(rows, latents)
    spec = get_metric(metric)
    start = time.perf_counter()
    try:
        spec.run(rep, 0)
        status = "ok"
    except Exception as exc:  # the metric's own refusal is the measurement here
        status = f"error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": round(seconds, 3), "peak_mb": round(peak, 1), "status": status}


def _measure(name: str, latents: int, rows: int, budget: float) -> dict:
    """One point in a fresh process, stopped after ``budget`` seconds."""
    try:
        child = subprocess.run([sys.executable, __file__, "--one", name, str(latents), str(rows)],
                               capture_output=True, text=True, timeout=budget, check=False)
    except subprocess.TimeoutExpired:
        return {"seconds": "", "peak_mb": "", "status": f"over budget ({budget:g} s)"}
    if child.returncode != 0:
        last = (child.stderr.strip().splitlines() or ["?"])[-1]
        return {"seconds": "", "peak_mb": "", "status": f"crashed: {last}"}
    return json.loads(child.stdout.strip().splitlines()[-1])


def _write(out: Path, rows: list) -> None:
    """Rewritten after each point, through a temporary file: a stop keeps every point."""
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--widths", default="256,1024,2048")
    p.add_argument("--rows", type=int, default=10000)
    p.add_argument("--metrics", default="all")
    p.add_argument("--budget", type=float, default=600.0)
    p.add_argument("--out", default=None)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--fresh", action="store_true", help="measure points already in --out again")
    p.add_argument("--one", nargs=3, metavar=("METRIC", "L", "ROWS"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(_one(args.one[0], int(args.one[1]), int(args.one[2]))))
        return 0
    from benchmark.runner import BUILTIN_SPECS

    if args.quick:
        args.widths, args.rows = "8,16", 500
        args.metrics = "mig" if args.metrics == "all" else args.metrics
        args.budget, args.fresh = min(args.budget, 120.0), True
    names = [s.name for s in BUILTIN_SPECS] if args.metrics == "all" else args.metrics.split(",")
    widths = [int(w) for w in args.widths.split(",")]
    out = Path(args.out or (Path(tempfile.gettempdir()) / "wide_codes.csv" if args.quick
                            else Path(__file__).with_name("wide_codes.csv")))
    with open(out, newline="") if out.is_file() else open(os.devnull) as f:
        kept = {(r["metric"], int(r["latents"]), int(r["rows"])): r for r in csv.DictReader(f)}
    results = {}
    for name in names:
        over = False
        for latents in widths:
            if (name, latents, args.rows) in kept and not args.fresh:
                row = {c: kept[name, latents, args.rows][c] for c in COLUMNS[3:]}
            elif over:
                row = {"seconds": "", "peak_mb": "", "status": "over budget at a narrower width"}
            else:
                print(f"{name} L={latents} ...", file=sys.stderr, flush=True)
                row = _measure(name, latents, args.rows, args.budget)
            over = row["status"].startswith("over budget")
            results[name, latents, args.rows] = {"metric": name, "latents": latents, "rows": args.rows, **row}
            _write(out, [*results.values(), *(r for key, r in kept.items() if key not in results)])
    print(f"| metric | {' | '.join(f'L = {w}' for w in widths)} |")
    print("|---" * (len(widths) + 1) + "|")
    for name in names:
        cells = []
        for r in (r for r in results.values() if r["metric"] == name):
            cells.append(f"{r['seconds']} s, {r['peak_mb']} MB" if r["status"] == "ok" else r["status"])
        print(f"| {name} | {' | '.join(cells)} |")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
