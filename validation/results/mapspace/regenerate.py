"""Regenerate the LeNet-5 mapspaces and their re-ranking reports in this folder.

For conv1 and conv2 of inputs/lenet5/lenet5.onnx, on the toy 8-MAC core (inputs/toy) and on ZigZag's
tpu_like (inputs/tpu_like), at LOMA lpf_limit 6 and 8, this runs exactly

    zz-event mapspace --workload inputs/lenet5/lenet5.onnx --accelerator HW --mapping MAP \
        --layers conv1,conv2 --lpf-limit N --csv validation/results/mapspace/lenet5_<hw>_lpf<N>.csv
    zz-event rerank <csv> --by {latency,energy,edp} --json --plot-dir validation/results/mapspace/plots/<hw>_lpf<N>

and writes `rerank_<hw>_lpf<N>_<cost>.json`, the PNG scatters, and `summary.md` / `summary.json` (one line
per layer, hardware, lpf limit and cost, with each run's wall time). A CSV over 10 MB is stored
gzip-compressed (`.csv.gz`, deterministic: no name, no time stamp); `zz_event.mapspace.load` and
`zz-event rerank` read it as it is.

    .venv/bin/python validation/results/mapspace/regenerate.py              # everything (lpf 8 takes long)
    .venv/bin/python validation/results/mapspace/regenerate.py --lpf 6      # only lpf_limit 6
    .venv/bin/python validation/results/mapspace/regenerate.py --rerank-only   # reports from existing CSVs
    .venv/bin/python validation/results/mapspace/regenerate.py --summary-only
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
WORKLOAD = "inputs/lenet5/lenet5.onnx"
HARDWARE = {
    "toy": ("inputs/toy/hardware.yaml", "inputs/toy/mapping_lenet5.yaml"),
    "tpu_like": ("inputs/tpu_like/hardware.yaml", "inputs/tpu_like/mapping.yaml"),
}
LAYERS = "conv1,conv2"
COSTS = ("latency", "energy", "edp")
GZIP_ABOVE = 10 * 1024 * 1024


def zz_event(*args: str, stdout=None) -> None:
    subprocess.run([sys.executable, "-m", "zz_event.cli", *args], cwd=ROOT, check=True, stdout=stdout)


def gzip_deterministic(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    with open(path, "rb") as src, open(target, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    path.unlink()
    return target


def csv_of(hw: str, lpf: int) -> Path:
    plain = HERE / f"lenet5_{hw}_lpf{lpf}.csv"
    return plain if plain.exists() else plain.with_name(plain.name + ".gz")


def run_one(hw: str, lpf: int) -> float:
    hardware, mapping = HARDWARE[hw]
    csv = HERE / f"lenet5_{hw}_lpf{lpf}.csv"
    csv.with_name(csv.name + ".gz").unlink(missing_ok=True)
    start = time.perf_counter()
    zz_event("mapspace", "--workload", WORKLOAD, "--accelerator", hardware, "--mapping", mapping,
             "--layers", LAYERS, "--lpf-limit", str(lpf), "--csv", str(csv.relative_to(ROOT)), "--parquet", "no")
    seconds = time.perf_counter() - start
    if csv.stat().st_size > GZIP_ABOVE:
        gzip_deterministic(csv)
    return seconds


def rerank_one(hw: str, lpf: int) -> None:
    csv = csv_of(hw, lpf)
    for cost in COSTS:
        with open(HERE / f"rerank_{hw}_lpf{lpf}_{cost}.json", "w", encoding="utf-8") as out:
            zz_event("rerank", str(csv.relative_to(ROOT)), "--by", cost, "--json",
                     "--plot-dir", str((HERE / "plots" / f"{hw}_lpf{lpf}").relative_to(ROOT)), stdout=out)


def summarize(timings: dict[str, float]) -> None:
    rows = []
    for report in sorted(HERE.glob("rerank_*_lpf*_*.json")):
        hw_lpf, cost = report.stem[len("rerank_"):].rsplit("_", 1)
        hw, lpf = hw_lpf.rsplit("_lpf", 1)
        for layer in json.loads(report.read_text(encoding="utf-8"))["layers"]:
            rows.append({
                "layer": layer["name"], "hardware": hw, "lpf_limit": int(lpf), "cost": cost,
                "mappings": layer["mappings"], "differ": layer["differ"], "regret_pct": layer["regret_pct"],
                "kendall_tau": layer["kendall_tau"], "top_overlap": layer["top_overlap"],
                "mappings_lost": layer["mappings_lost"], "mappings_lost_pct": layer["mappings_lost_pct"],
                "raw_best": layer["raw_best"]["temporal_ordering"],
                "corrected_best": layer["corrected_best"]["temporal_ordering"],
            })
    rows.sort(key=lambda r: (r["layer"], r["hardware"], r["lpf_limit"], COSTS.index(r["cost"])))
    sys.path.insert(0, str(ROOT))
    from zz_event.provenance import provenance

    source = provenance({"script": "validation/results/mapspace/regenerate.py", "layers": LAYERS})
    summary = {"rows": rows, "run_seconds": timings, "provenance": source}
    (HERE / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    fmt = lambda v, d: "n/a" if v is None else f"{v:.{d}f}"  # noqa: E731
    versions = ", ".join(f"{k} {v}" for k, v in source["versions"].items() if v)
    lines = [
        "# Re-ranking LeNet-5's conv layers on corrected (event-driven) costs",
        "",
        "Per layer: ZigZag's raw pick vs the corrected optimum (`event_driven`: filter + readiness), the regret of",
        "the raw pick (% over the true optimum), Kendall's tau-b between raw and corrected costs over all",
        "mappings, top-1/10/100 overlap (fraction), and mappings that truly beat the raw pick. Definitions:",
        "`zz_event/mapspace/rerank.py`. Regenerate with `.venv/bin/python validation/results/mapspace/regenerate.py`.",
        f"Generated {source['date']} at commit {source['commit']} ({versions}).",
        "",
        "| layer | hardware | lpf | cost | mappings | differ | regret % | Kendall tau-b | top 1/10/100 | lost (%) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        top = "/".join(f"{r['top_overlap'][k]:.2f}" for k in ("1", "10", "100"))
        lines.append(
            f"| {r['layer']} | {r['hardware']} | {r['lpf_limit']} | {r['cost']} | {r['mappings']} | "
            f"{'yes' if r['differ'] else 'no'} | {fmt(r['regret_pct'], 2)} | {fmt(r['kendall_tau'], 4)} | {top} | "
            f"{r['mappings_lost']} ({fmt(r['mappings_lost_pct'], 2)}) |"
        )
    lines.append("")
    lines.append("Run times (s): " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(timings.items())))
    (HERE / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lpf", type=int, nargs="+", default=[6, 8], help="lpf limits to run (default 6 8)")
    parser.add_argument("--hardware", nargs="+", choices=list(HARDWARE), default=list(HARDWARE))
    parser.add_argument("--rerank-only", action="store_true", help="re-rank the existing CSVs, do not rerun ZigZag")
    parser.add_argument("--summary-only", action="store_true", help="only rebuild summary.md/json from the reports")
    args = parser.parse_args()
    timings_file = HERE / "run_seconds.json"
    timings = json.loads(timings_file.read_text()) if timings_file.exists() else {}
    if not args.summary_only:
        for lpf in args.lpf:
            for hw in args.hardware:
                if not args.rerank_only:
                    timings[f"{hw}_lpf{lpf}"] = round(run_one(hw, lpf), 1)
                    timings_file.write_text(json.dumps(timings, indent=2, sort_keys=True) + "\n")
                rerank_one(hw, lpf)
    summarize(timings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
