"""`zz-event sweep SPEC --out DIR` (a design-space sweep on Dask) and `zz-event sweep-plot DIR` (its figures).

The spec format is in `zz_event.sweep.spec`; the folder and its table in `zz_event.sweep.store` and
`zz_event.sweep.rows`. This module owns what the library does not do: the progress bar, the printed
summary, and quiet logging on the Dask workers.
"""

from __future__ import annotations

import logging
import signal
import sys
import warnings
from pathlib import Path

__all__ = ["register", "sweep_command", "sweep_plot_command"]


def register(sub) -> None:
    p = sub.add_parser("sweep", help="run a design-space sweep (YAML spec) on Dask; writes DIR/sweep.parquet")
    p.add_argument("spec", metavar="SPEC.yaml", help="sweep spec YAML (base inputs and axes; see README, Sweeps)")
    p.add_argument("--out", required=True, metavar="DIR", help="sweep folder; rerunning into it skips finished points")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="address of an existing Dask scheduler (e.g. tcp://host:8786); default: a local cluster")
    p.add_argument("--workers", type=int, metavar="N", help="local cluster worker processes (default: one per core; "
                   "0: run the points one by one in this process, without Dask)")  # fmt: skip
    p.add_argument("--no-plots", action="store_true", help="do not write DIR/plots/")
    p.set_defaults(handler=sweep_command)
    q = sub.add_parser("sweep-plot", help="figures and a markdown table of a sweep folder (DIR/plots/)")
    q.add_argument("out", metavar="DIR", help="sweep folder written by zz-event sweep")
    q.set_defaults(handler=sweep_plot_command)


def quiet_worker() -> None:
    """Run on every Dask worker: only ZigZag's and Stream's errors reach the terminal (as the CLI's own process)."""
    for name in ("zigzag", "stream"):
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.simplefilter("ignore")


def _terminate(_signum, _frame) -> None:
    raise KeyboardInterrupt  # stop cleanly: the cluster shuts down, finished points are already on disk


def sweep_command(args) -> int:
    from tqdm import tqdm  # noqa: PLC0415 -- keeps `zz-event --help` fast

    from zz_event.sweep import run_sweep  # noqa: PLC0415 -- keeps `zz-event --help` fast
    from zz_event.sweep.plan import plan_sweep  # noqa: PLC0415 -- keeps `zz-event --help` fast

    if args.workers is not None and args.workers < 0:
        from zz_event.errors import ZzEventError  # noqa: PLC0415 -- keeps `zz-event --help` fast

        raise ZzEventError(f"--workers {args.workers}; expected 0 or more")
    plan = plan_sweep(args.spec)  # every point checked before the folder is touched
    if not args.verbose:
        # Importing distributed sets its loggers' levels: set ours after.
        import distributed  # noqa: F401, PLC0415

        logging.getLogger("distributed").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _terminate)
    bar = tqdm(total=0, unit="point", file=sys.stderr, disable=None)
    failures: list = []

    def on_start(to_run: int, skipped: int) -> None:
        bar.reset(total=to_run)
        if skipped:
            bar.write(f"{skipped} point(s) already finished in {args.out}: skipped")

    def on_point(outcome) -> None:
        bar.update(1)
        if not outcome.ok:
            failures.append(outcome)
            bar.set_postfix(failed=len(failures))
            bar.write(f"point {outcome.index} failed: {outcome.error}")

    with warnings.catch_warnings():
        warnings.simplefilter("default" if args.verbose else "ignore")
        run = run_sweep(args.spec, args.out, scheduler=args.scheduler, workers=args.workers, on_start=on_start,
                        on_point=on_point, worker_setup=None if args.verbose else quiet_worker, plan=plan)  # fmt: skip
    bar.close()
    print(f"{run.points} points: {run.ran} run ({run.failed} failed), {run.skipped} already finished; "
          f"{len(run.table)} rows in {Path(args.out) / 'sweep.parquet'}")  # fmt: skip
    if not args.no_plots and not run.table.empty:
        _plots(run.table, Path(args.out))
    if run.failed:
        print(f"{run.failed} point(s) failed (errors in {Path(args.out) / 'failed'}); rerun the same command to "
              f"retry them", file=sys.stderr)  # fmt: skip
    return 1 if run.failed else 0


def _plots(table, out: Path) -> None:
    from zz_event.sweep.plots import draw_sweep  # noqa: PLC0415 -- keeps `zz-event --help` fast

    written = draw_sweep(table, out / "plots")
    print(f"wrote {len(written)} files in {out / 'plots'} ({', '.join(p.name for p in written)})")


def sweep_plot_command(args) -> int:
    from zz_event.sweep import load  # noqa: PLC0415 -- keeps `zz-event --help` fast

    _plots(load(args.out), Path(args.out))
    return 0
