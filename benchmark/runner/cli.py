"""Command-line entry point: ``python run_protocol.py --attack rotation``."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

import attacks as attack_registry

from .. import __version__
from ..factors import builtin_names
from ..information import usable_cores
from ..validation import BenchmarkError, did_you_mean, unknown_name
from . import models, report
from .arguments import (
    LARGE_FACTOR,
    MAX_CELLS,
    MAX_JOBS,
    MAX_LEVEL,
    MAX_LEVELS,
    MAX_NOISE,
    MAX_SAMPLES,
    MAX_SEEDS,
    SIZES,
    check_param_name,
    check_param_value,
    comma_list,
    larger_sizes,
    list_available,
    parse_levels,
    parse_param,
)
from .datasheet import datasheets
from .io import OutputLock
from .outputs import attack_folder, check_card, check_replacements, open_ended_notes
from .registry import default_metric_names, get_metric, metric_names
from .replot import replot
from .signals import Interrupted, Terminated
from .sweep import SweepConfig, base_representation, check_attack, run_sweep

__all__ = ["build_parser", "main", "parse_levels", "parse_param"]

EPILOG = r"""examples:
  python run_protocol.py --attack rotation            sweep one attack, write results/rotation/
  python run_protocol.py --attack all --quick         every attack, small samples
  python run_protocol.py --attack redundancy --levels 0,0.5,1,1.5,2   the paper's grid
  python run_protocol.py --attack noise --metric my_metric.py:score   add your own metric
  python run_protocol.py --attack all --encodings model.npz           your model: results/model/
  python run_protocol.py --attack redundancy --encodings models/      several models, compared

Outputs: OUT/<attack>/ for the data set's sweeps (a composition a+b in OUT/a_then_b/),
OUT/<stem>/<attack>/ for the sweeps of an encodings file <stem>.npz. A run rewrites a
folder holding the same configuration, and refuses one holding another unless --force.

--encodings takes files and directories (a directory: every *.npz in it, sorted). A file
named <model>_s<seed>.npz (stem matching ^(.+)_s(\d+)$) is seed <seed> of model <model>,
e.g. betavae_s0.npz and betavae_s1.npz are two seeds of betavae; any other name is a model
of its own, seed 0. With several files, the models are compared in OUT/model_metrics.png,
model_pid.png, model_pid_factors.png, attacked.png and tc_vs_redundancy.png (each with a
.csv of what it draws).
"""


def failure_lines(errors, cells_per_metric: int) -> list[str]:
    """One line per failed cell, or one per metric that failed identically on every cell."""
    by_metric = {}
    for error in errors:
        by_metric.setdefault(error.metric, []).append(error)
    lines = []
    for metric, failed in by_metric.items():
        details = {e.detail for e in failed}
        if len(failed) == cells_per_metric > 1 and len(details) == 1:
            first = failed[0]
            lines.append(f"metric {metric!r} failed at level {first.level:g}, seed {first.seed} "
                         f"and the same way at every other level and seed "
                         f"({len(failed)} cells): {details.pop()}")
        else:
            lines.extend(str(e) for e in failed)
    return lines


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, like every other refusal, not the usage block
        words = message.split(":", 1)[-1].split() if message.startswith("unrecognized") else []
        option = next((w.split("=")[0] for w in words if w.startswith("--")), None)
        hint = did_you_mean(option, self._option_string_actions) if option else ""
        raise BenchmarkError(f"{message}{'; ' + hint.strip() if hint else ''} (see --help)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="run_protocol.py",
        description="Sweep an entanglement attack on a representation and score every "
                    "level with UniBound and the baseline disentanglement metrics.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--attack", help="attack name, comma list, a+b composition, or 'all' "
                   f"(an attacked representation has at most {attack_registry.MAX_LATENTS} latents)")
    p.add_argument("--levels", help="a,b,c or start:stop:count, or 'quick' for each attack's "
                                    "--quick grid at full sample sizes (default: the attack's own grid; "
                                    f"at most {MAX_LEVELS} levels, each at most {MAX_LEVEL:g})")
    p.add_argument("--dataset", help="factor grid by its data set's name (default: dsprites; "
                                     "--list shows them; not with --encodings)")
    p.add_argument("--metrics", help="comma list of registered metrics, or 'all' "
                                     "(default: the protocol's default set)")
    p.add_argument("--metric", action="append", default=[], metavar="SPEC",
                   help="extra metric: path/to/file.py:func or package.module:func (repeatable)")
    p.add_argument("--param", action="append", default=[], metavar="METRIC.NAME=VALUE",
                   help="override a metric parameter, e.g. mig.num_bins=30 (repeatable; sample "
                        f"sizes num_* at most {MAX_SAMPLES:,})")
    p.add_argument("--seeds", type=int, default=3,
                   help=f"number of seeds (default: 3, at most {MAX_SEEDS}; levels x seeds at most "
                        f"{MAX_CELLS:,})")
    p.add_argument("--first-seed", type=int, default=0,
                   help="the first seed (default 0): --seeds 5 --first-seed 5 runs seeds 5-9, "
                        "another draw of the same sweep")
    p.add_argument("--noise", type=float,
                   help="noise of the ideal representation in value spacings (default: 0.1, at most "
                        f"{MAX_NOISE:g}; not with --encodings)")
    p.add_argument("--encodings", metavar="PATH", nargs="+", action="extend",
                   help="score your own encodings (.npz; keys: factors, codes, optional variances): "
                        "one file, or several files and/or directories of them to compare models "
                        "(see the naming rule below)")
    p.add_argument("--out", default="results", help="output directory (default: results)")
    p.add_argument("--quick", action="store_true", help="small samples and few levels: seconds")
    p.add_argument("--sizes", choices=SIZES, default=None,
                   help="the metrics' sample sizes: quick (as --quick, without its levels), default, "
                        f"or large ({LARGE_FACTOR}x the defaults of what quick lowers); with "
                        "--levels quick, the same grids at another size")
    p.add_argument("--resume", action="store_true", help="reuse finished cells of an interrupted run")
    p.add_argument("--force", action="store_true",
                   help="replace the outputs of a sweep of another configuration in --out")
    p.add_argument("--jobs", type=int, default=None,
                   help=f"worker processes (default: one per usable core, {usable_cores()} here; "
                        f"at most {MAX_JOBS})")
    p.add_argument("--executor", choices=["local", "dask"], default="local")
    p.add_argument("--scheduler", help="dask scheduler address for --executor dask (default: local, "
                                       "a LocalCluster of this machine's cores)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.add_argument("--quiet", action="store_true",
                   help="leave out the table of results printed at the end of a run")
    p.add_argument("--replot", metavar="DIR",
                   help="rebuild the summaries, verdicts and figures of the finished runs in DIR "
                        "from their scores.csv, without scoring again")
    p.add_argument("--datasheets", metavar="DIR", nargs="+",
                   help="write a datasheet per metric to OUT/datasheets/ from finished --attack all "
                        "folders (the same metrics at several sample sizes: whether verdicts hold)")
    p.add_argument("--list", action="store_true", help="list attacks, metrics and datasets")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def resolve_attacks(text: str) -> list[str]:
    if text == "all":
        return attack_registry.names()
    names = comma_list(text, "--attack")
    if not names:
        raise BenchmarkError("--attack is empty")
    names = [attack_registry.get(name).name for name in names]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BenchmarkError(f"--attack names {', '.join(twice)} more than once")
    return names


def resolve_metrics(args) -> list[str]:
    if args.metrics is None:
        names = default_metric_names()
    elif args.metrics == "all":
        names = metric_names()
    else:
        names = comma_list(args.metrics, "--metrics")
        if not names:
            raise BenchmarkError("--metrics is empty; leave it out for the default set, or "
                                 "name metrics (see --list)")
    names = [get_metric(n).name for n in names]  # validates and resolves plugins
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise BenchmarkError(f"--metrics names {', '.join(twice)} more than once")
    for spec in args.metric:
        plugin = get_metric(spec)
        if plugin.name in names:
            raise BenchmarkError(f"--metric {spec}: a metric named {plugin.name!r} is already "
                                 "in this run; give the function another name")
        names.append(plugin.name)
    return names


def sweep_config(args, name, metrics, plugin_specs, metric_params, encodings=None,
                 base=None) -> SweepConfig:
    """The sweep of attack ``name`` (on the file ``encodings``, if given) that the command
    line asks for.  The attack's own grid stops at its range on ``base`` (``missing`` on
    four latents goes up to 3); levels the user gives are checked, not cut."""
    spec = attack_registry.get(name)
    if args.levels and args.levels != "quick":
        levels = parse_levels(args.levels)
    else:  # "quick": the quick grid at full sample sizes
        levels = spec.quick_levels if args.quick or args.levels == "quick" else spec.levels
        limit = spec.level_limit(base) if base is not None else None
        if limit is not None:
            levels = tuple(v for v in levels if v <= limit + 1e-12)
    return SweepConfig(
        attack=spec.name, levels=levels,
        # plugins run in worker processes by their spec, so pass the spec, not the name
        metrics=tuple(plugin_specs.get(m, m) for m in metrics),
        seeds=tuple(range(args.first_seed, args.first_seed + args.seeds)), dataset=args.dataset,
        noise=args.noise,
        quick=args.quick or args.sizes == "quick", encodings=encodings, metric_params=metric_params)


def _run_attacks(args, out, configs, base, model=None):
    """Sweep every attack, write its outputs and the multi-attack ones: ``(failures, sweeps)``.

    ``model`` (a file's stem in a multi-model run) prefixes every line printed."""
    failures = []
    sweeps = {}
    who = f"{model}: " if model else ""
    for name, config in configs.items():
        spec = attack_registry.get(name)
        attack_dir = attack_folder(out, spec.name)
        result = run_sweep(
            config, base=base, out_dir=attack_dir, resume=args.resume, jobs=args.jobs,
            executor=args.executor, scheduler=args.scheduler, progress=not args.no_progress,
            on_note=lambda note: print(f"note: {who}{note}", file=sys.stderr),
            desc=f"{model} {spec.name}" if model else None)
        for line in failure_lines(result.errors, len(config.levels) * len(config.seeds)):
            prefix = f"{spec.name}: " if len(configs) > 1 else ""
            print(f"error: {who}{prefix}{line}", file=sys.stderr)
        failures.extend(result.errors)
        for line in report.write_attack_outputs(attack_dir, result):
            print(f"warning: {who}{spec.name}: {line}", file=sys.stderr)
        sweeps[spec.name] = result
        print(f"{who}{spec.name}: wrote {attack_dir}/ ({len(result.scores)} scores)")
        if len(configs) == 1 and not model and not args.quiet:
            for line in report.result_table(result):
                print(f"  {line}")
            print(f"  open first: {attack_dir}/sensitivity.png")
    if len(sweeps) > 1:
        tally = report.write_multi_attack_outputs(out, sweeps)
        print(f"wrote {out}/sensitivity_grid.png, {out}/sensitivity_matrix.png and "
              f"{out}/report_card.png")
        for line in tally:
            print(f"  {line}")
        if not model and not args.quiet:
            print(f"  open first: {out}/report_card.png")
    return failures, sweeps


def _compare_models(out, files, results, bases) -> None:
    """The comparison figures and tables of a multi-model run, at ``out``."""
    written, problems = report.write_model_outputs(out, files, results, bases)
    for line in problems:
        print(f"warning: {line}", file=sys.stderr)
    if written:
        names = ", ".join(f"{name}.png" for name in written)
        count = len({f.model for f in files})
        print(f"compared {count} model(s) from {len(files)} file(s): wrote {names} "
              f"(each with its .csv) in {out}/; open first: {out}/{written[0]}.png")


def run(args) -> int:
    if args.list:
        print(list_available())
        return 0
    if args.replot:
        for line in replot(args.replot):
            print(line, file=sys.stderr if line.startswith("warning:") else sys.stdout)
        return 0
    if args.datasheets:
        for line in datasheets(args.datasheets, Path(args.out) / "datasheets"):
            print(line, file=sys.stderr if line.startswith("warning:") else sys.stdout)
        return 0
    if not args.attack:
        raise BenchmarkError("--attack is required (see --list for the available attacks)")
    if not 1 <= args.seeds <= MAX_SEEDS:
        raise BenchmarkError(f"--seeds must be between 1 and {MAX_SEEDS}, got {args.seeds}")
    if not 0 <= args.first_seed <= 2**31 - 1 - args.seeds:
        raise BenchmarkError(f"--first-seed must be between 0 and {2**31 - 1 - args.seeds}, "
                             f"got {args.first_seed}")
    if args.jobs is None:
        args.jobs = usable_cores()
    if not 1 <= args.jobs <= MAX_JOBS:
        raise BenchmarkError(f"--jobs must be between 1 and {MAX_JOBS}, got {args.jobs}")
    if args.executor == "dask" and not args.scheduler:
        args.scheduler = "local"  # a LocalCluster of this machine's cores
    if args.scheduler and args.executor != "dask":
        raise BenchmarkError("--scheduler is for --executor dask; add it, or drop --scheduler")
    if args.encodings and (args.dataset is not None or args.noise is not None):
        raise BenchmarkError("--encodings brings its own factors and codes; drop --dataset and --noise")
    args.dataset = "dsprites" if args.dataset is None else args.dataset
    args.noise = 0.1 if args.noise is None else args.noise
    if not 0 <= args.noise <= MAX_NOISE:  # NaN fails this too
        raise BenchmarkError(f"--noise must be between 0 and {MAX_NOISE:g}, got {args.noise:g}")
    if not str(args.out).strip():
        raise BenchmarkError("--out is empty; name an output directory")
    attack_names = resolve_attacks(args.attack)
    metrics = resolve_metrics(args)
    plugin_specs = {get_metric(s).name: s for s in args.metric}
    metric_params = {}
    for text in args.param:
        metric, param, value = parse_param(text)
        spec = get_metric(metric)
        if spec.name not in metrics:
            raise BenchmarkError(f"--param {text}: metric {spec.name!r} is not in this run "
                                 f"({', '.join(metrics)})")
        check_param_name(spec, param)
        check_param_value(spec, param, value)
        if param in metric_params.get(spec.name, {}):
            raise BenchmarkError(f"--param {spec.name}.{param} is given twice")
        metric_params.setdefault(spec.name, {})[param] = value
    if args.sizes is not None and args.quick and args.sizes != "quick":
        raise BenchmarkError(f"--quick asks for quick sizes; drop it or --sizes {args.sizes}")
    if args.sizes == "large":  # a --param given for a size wins
        for name in metrics:
            spec = get_metric(name)
            for param, value in larger_sizes(spec).items():
                metric_params.setdefault(spec.name, {}).setdefault(param, value)
    if not args.encodings and args.dataset not in builtin_names():
        raise unknown_name("dataset", args.dataset, builtin_names())
    files = models.discover(args.encodings) if args.encodings else []
    if len(files) > 1:  # every file loaded and checked before any sweep starts
        bases = models.load_models(files)
        paths = {f.stem: f.path for f in files}
    else:
        # the same for every attack: built, and a bad encodings file refused, once and first
        path = files[0].path if files else None
        bases = {None: base_representation(encodings=path, dataset=args.dataset, noise=args.noise)}
        paths = {None: path}
    runs = {key: {name: sweep_config(args, name, metrics, plugin_specs, metric_params, paths[key],
                                     bases[key])
                  for name in attack_names} for key in bases}
    for key, configs in runs.items():  # every attack checked on every file before any runs
        for config in configs.values():
            if len(config.levels) * len(config.seeds) > MAX_CELLS:
                raise BenchmarkError(f"{len(config.levels)} levels x {len(config.seeds)} seeds is "
                                     f"{len(config.levels) * len(config.seeds):,} cells per metric; "
                                     f"at most {MAX_CELLS:,}")
            try:
                check_attack(config, bases[key])
            except BenchmarkError as exc:
                raise BenchmarkError(f"{paths[key]}: {exc}" if key else str(exc)) from None

    out = Path(args.out)
    for line in open_ended_notes(runs, bases):
        print(f"note: {line}", file=sys.stderr)
    if args.levels not in (None, "quick") and len(parse_levels(args.levels)) < 2:
        print("warning: a single level gives scores but no trend; the verdicts in summary.csv "
              "need at least two levels", file=sys.stderr)
    if out.exists() and not out.is_dir():
        raise BenchmarkError(f"--out {out}: is a file, not a folder; name a folder for the results")
    # a model's sweeps go to OUT/<model>/, so they never land on the data set's own
    places = {key: out / key if key else out for key in runs}
    if len(files) == 1:
        places = {None: out / files[0].stem}
    folders = {attack_folder(places[key], name): config
               for key, configs in runs.items() for name, config in configs.items()}
    for line in check_replacements(folders, args.force):
        print(f"note: {line}", file=sys.stderr)
    if len(attack_names) > 1:  # the run writes a card, grid and matrix at each place
        for place in places.values():
            for line in check_card(place, attack_names, args.force):
                print(f"note: {line}", file=sys.stderr)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BenchmarkError(f"--out {out}: cannot create the output directory "
                             f"({exc.strerror or exc})") from None
    with OutputLock(out):  # a second run into the same --out refuses instead of overwriting
        if len(files) > 1:
            failures, results = [], {}
            for file in files:
                failed, results[file.stem] = _run_attacks(args, out / file.stem, runs[file.stem],
                                                          bases[file.stem], model=file.stem)
                failures.extend(failed)
            _compare_models(out, files, results, bases)
            sweeps = {(stem, a): r for stem, by_attack in results.items() for a, r in by_attack.items()}
        else:
            failures, sweeps = _run_attacks(args, places[None], runs[None], bases[None])
    if failures:
        written = sum(len(r.scores) for r in sweeps.values())
        rest = "the other results were written" if written else "no result could be written"
        print(f"error: {len(failures)} cell(s) failed; {rest}", file=sys.stderr)
        return 1
    return 0


def join_negative_levels(argv: list[str]) -> list[str]:
    """``--levels -1,2`` as ``--levels=-1,2``: argparse would take ``-1,2`` for an option,
    and the validation message about negative levels is the one that helps."""
    out = []
    for arg in argv:
        if out and out[-1] == "--levels" and arg[:1] == "-" and arg[1:2] in set("0123456789."):
            out[-1] = f"--levels={arg}"
        else:
            out.append(arg)
    return out


def _on_signal(signum, frame):
    # The first signal starts the clean stop; more of them must not interrupt that stop.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise Terminated() if signum == signal.SIGTERM else Interrupted()


def main(argv=None) -> int:
    handlers = {}
    if threading.current_thread() is threading.main_thread():
        handlers = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        argv = join_negative_levels(list(sys.argv[1:] if argv is None else argv))
        return run(build_parser().parse_args(argv))
    except BenchmarkError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # e.g. the disk filled up or a file became unreadable mid-run
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        handlers = {}  # stay deaf to more signals while the process exits
        what = "terminated" if isinstance(exc, Terminated) else "interrupted"
        print(f"{what}: finished cells are kept; rerun with --resume to continue", file=sys.stderr)
        return 143 if isinstance(exc, Terminated) else 130
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


if __name__ == "__main__":
    sys.exit(main())
