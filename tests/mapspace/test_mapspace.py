"""The mapspace logger: one row per ZigZag evaluation, corrected values, streamed, resumable, deterministic."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from zz_event.cli import main as cli_main
from zz_event.errors import ZzEventError
from zz_event.mapspace import load, meta_path, run_mapspace
from zz_event.mapspace.rows import VARIANTS, MapspaceSchema
from zz_event.mapspace.writer import csv_line

ROOT = Path(__file__).resolve().parents[2]

# The toy's 8-MAC core, with a 6x6 input so that LOMA (lpf_limit 5) has 120 orderings to evaluate.
SMALL_LAYER = """\
- id: 0
  name: small_conv
  operator_type: Conv
  equation: O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]
  dimension_relations: [ox=1*ix+1*fx, oy=1*iy+1*fy]
  loop_dims: [B, K, C, IY, IX, FY, FX]
  loop_sizes: [1, 8, 1, 6, 6, 3, 3]
  operand_precision: {W: 16, I: 16, O: 16, O_final: 16}
  operand_source: {I: 0, W: 0}
"""
SMALL_ROWS = 120


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("small")
    (d / "layer.yaml").write_text(SMALL_LAYER)
    args = ["--workload", str(d / "layer.yaml"), "--accelerator", str(ROOT / "inputs/toy/hardware.yaml"),
            "--mapping", str(ROOT / "inputs/toy/mapping_free.yaml"), "--lpf-limit", "5", "--no-progress",
            "--parquet", "no"]
    return {"dir": d, "args": args}


def _cli(args: list[str], env_extra: dict | None = None, prelude: str = "") -> subprocess.Popen:
    code = f"import sys\n{prelude}\nfrom zz_event.cli import main\nsys.exit(main(sys.argv[1:]))"
    env = {**os.environ, **(env_extra or {})}
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def complete_run(small):
    """The small layer's complete mapspace, written by the CLI in a subprocess."""
    csv = small["dir"] / "complete.csv"
    proc = _cli(["mapspace", *small["args"], "--csv", str(csv)], {"PYTHONHASHSEED": "1"})
    _out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    return csv


def test_rows_equal_zigzag_evaluations(toy, tmp_path, monkeypatch):
    """Every CostModelEvaluation ZigZag makes is a row, counted independently at ZigZag's CostModelStage."""
    from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage

    import zz_event.zigzag.correction as stages

    evaluations, engine_calls = [], []
    original_run, original_evaluate = CostModelStage.run, stages.evaluate

    def counting_run(self):
        for cme, extra in original_run(self):
            evaluations.append(self.layer.name)
            yield cme, extra

    def counting_evaluate(nest, options):
        engine_calls.append(options.label)
        return original_evaluate(nest, options)

    monkeypatch.setattr(CostModelStage, "run", counting_run)
    monkeypatch.setattr(stages, "evaluate", counting_evaluate)
    run = run_mapspace(toy["workload"], toy["hardware"], toy["mapping_free"], tmp_path / "toy.csv", parquet=False)
    frame = load(run.csv)
    assert len(evaluations) == 24  # LOMA: 4! orderings of FY, FX, IX, IY
    assert run.rows == len(frame) == len(evaluations)
    meta = json.loads(run.meta.read_text())
    assert meta["completed"] is True and meta["status"] == "completed" and meta["rows"] == len(evaluations)
    assert meta["layers"] == [{"name": "conv_layer", "rows": 24, "spatial_mappings": 1}]
    assert meta["provenance"]["versions"]["zigzag-dse"] == "3.9.1"
    # The correction stage evaluates each mapping once per variant; the logger computes nothing itself.
    assert sorted(set(engine_calls)) == sorted(VARIANTS) and len(engine_calls) == 3 * len(evaluations)
    assert frame["evaluation"].tolist() == list(range(24))
    assert frame["temporal_ordering"].nunique() == 24


def test_fixed_mapping_row_holds_the_seed_numbers(toy, tmp_path):
    """The toy's fixed mapping (FY, FX, IX, IY): ZigZag's and the event-driven figures of the seed table."""
    run = run_mapspace(toy["workload"], toy["hardware"], toy["mapping"], tmp_path / "fixed.csv", parquet=False)
    row = load(run.csv).iloc[0]
    assert run.rows == 1
    assert row["temporal_ordering"] == "FY3 FX3 IX5 IY5"
    assert row["spatial_mapping"] == "D1:K8"
    assert row["alloc_W"] == "sram_256KB[FY3 FX3 IX5 IY5]"
    assert row["alloc_I"] == "sram_inputs_256KB[FY3 FX3 IX5 IY5]"
    assert (row["raw_macs"], row["raw_latency_cycles"], row["raw_energy_pj"]) == (1800, 225.0, 7939.5)
    assert (row["raw_W0_rd_out_to_low"], row["raw_I0_rd_out_to_low"]) == (225, 25)
    assert (row["raw_O0_rd_out_to_low"], row["raw_O0_wr_in_by_low"]) == (225, 225)
    assert (row["dense_macs"], row["dense_latency_cycles"]) == (1800, 225)
    assert (row["filter_macs"], row["event_driven_macs"], row["event_driven_latency_cycles"]) == (648, 648, 81)
    assert (row["event_driven_W0_rd_out_to_low"], row["event_driven_I0_rd_out_to_low"]) == (77, 25)
    assert (row["event_driven_O0_rd_out_to_low"], row["event_driven_O0_wr_in_by_low"]) == (72, 81)
    assert row["event_driven_energy_pj"] == pytest.approx(2889.72)
    assert row["valid_mac_fraction"] == pytest.approx(648 / 1800)
    assert row["corrected"] == 1 and row["uncorrected_reason"] == ""


def test_uncorrected_layer_rows_are_raw_only(tmp_path):
    """A pooling layer keeps ZigZag's cost: raw columns filled, engine columns empty, a reason given."""
    run = run_mapspace(str(ROOT / "inputs/lenet5/lenet5.onnx"), str(ROOT / "inputs/toy/hardware.yaml"),
                       str(ROOT / "inputs/toy/mapping_lenet5.yaml"), tmp_path / "pool.csv", layers=("pool2",),
                       parquet=False, cost_pooling_and_add=True)
    frame = load(run.csv)
    assert run.layer_rows == (("pool2", len(frame)),) and len(frame) > 0
    assert (frame["corrected"] == 0).all()
    assert frame["uncorrected_reason"].str.contains("Pooling").all()
    assert frame["raw_energy_pj"].notna().all() and frame["raw_macs"].notna().all()
    for prefix in VARIANTS:
        assert frame[f"{prefix}_latency_cycles"].isna().all()
    assert frame["valid_mac_fraction"].isna().all()


def test_columns_follow_the_documented_schema(toy, tmp_path):
    run = run_mapspace(toy["workload"], toy["hardware"], toy["mapping"], tmp_path / "s.csv", parquet=False)
    frame = load(run.csv)
    assert tuple(frame.columns) == MapspaceSchema(levels=1).columns
    assert str(frame["raw_energy_pj"].dtype) == "float64" and str(frame["raw_macs"].dtype) == "Int64"
    assert str(frame["dense_W0_rd_out_to_low"].dtype) == "Int64"
    assert load(run.csv, columns=["layer", "raw_macs"]).columns.tolist() == ["layer", "raw_macs"]


def test_two_runs_are_byte_identical(small, complete_run):
    csv = small["dir"] / "again.csv"
    proc = _cli(["mapspace", *small["args"], "--csv", str(csv)], {"PYTHONHASHSEED": "2"})
    _out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert csv.read_bytes() == complete_run.read_bytes()
    assert len(load(csv)) == SMALL_ROWS


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_run_leaves_a_prefix(small, complete_run, signum):
    """Killed part-way, a run leaves a CSV of whole rows that begin the complete run, and says so."""
    csv = small["dir"] / f"interrupted_{signum}.csv"
    slow = (  # slows each row down so the signal lands mid-run, whatever the machine's speed
        "import time, zz_event.mapspace.logger as m\n"
        "_record = m.MapspaceLog.record\n"
        "def record(self, *a):\n    time.sleep(0.05)\n    _record(self, *a)\n"
        "m.MapspaceLog.record = record"
    )
    proc = _cli(["mapspace", *small["args"], "--csv", str(csv)], prelude=slow)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if csv.exists() and csv.read_bytes().count(b"\n") > 11:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    partial, complete = csv.read_bytes(), complete_run.read_bytes()
    assert partial.endswith(b"\n")
    assert complete.startswith(partial)
    rows = load(csv)
    assert 10 <= len(rows) < SMALL_ROWS
    meta = json.loads(meta_path(csv).read_text())
    assert meta["completed"] is False and meta["status"] == "interrupted"
    assert meta["rows"] == len(rows)
    assert "interrupt" in err.lower() and err.count("Traceback") == 0


def test_cli_mapspace_writes_and_reports(toy, tmp_path, capsys):
    csv = tmp_path / "cli.csv"
    code = cli_main(["mapspace", "--workload", toy["workload"], "--accelerator", toy["hardware"], "--mapping",
                     toy["mapping_free"], "--csv", str(csv), "--no-progress", "--parquet", "no"])
    assert code == 0
    out = capsys.readouterr().out
    assert "24 mappings" in out and str(csv) in out
    assert json.loads(meta_path(csv).read_text())["provenance"]["arguments"]["csv"] == str(csv)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"--workload": "missing.yaml"}, "not found"),
        ({"--accelerator": "inputs/toy/workload.yaml"}, "accelerator"),
        ({"--layers": "nope"}, "unknown layer"),
        ({"--lpf-limit": "0"}, "--lpf-limit"),
    ],
)
def test_cli_mapspace_bad_input_is_one_line(toy, tmp_path, capsys, change, message):
    args = {"--workload": toy["workload"], "--accelerator": toy["hardware"], "--mapping": toy["mapping_free"],
            "--csv": str(tmp_path / "x.csv")}
    args.update({k: (str(ROOT / v) if k != "--layers" and k != "--lpf-limit" else v) for k, v in change.items()})
    argv = ["mapspace", "--no-progress"] + [s for kv in args.items() for s in kv]
    assert cli_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("zz-event: error:") and "\n" not in err and message in err


def test_load_rejects_files_that_are_not_mapspaces(tmp_path):
    with pytest.raises(ZzEventError, match="no such file"):
        load(tmp_path / "missing.csv")
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(ZzEventError, match="not a zz-event mapspace"):
        load(other)


def test_parquet_copy_matches_the_csv(toy, tmp_path):
    pytest.importorskip("pyarrow")
    run = run_mapspace(toy["workload"], toy["hardware"], toy["mapping_free"], tmp_path / "p.csv", parquet=True)
    assert run.parquet is not None and run.parquet.exists()
    pd.testing.assert_frame_equal(load(run.parquet), load(run.csv))


@pytest.mark.parametrize("seed", range(3))
def test_row_lines_are_what_the_csv_module_writes(seed):
    """Rows are joined by hand (most cells are numbers); the text must be csv.writer's, with minimal
    quoting, for any cell text (a carriage return is quoted too, which csv.writer leaves bare)."""
    rng = random.Random(seed)
    alphabet = [",", '"', "\n", " ", "a", "\t", ";", "'", "\\", "é", "[", "]", "", "1", "2.5"]
    for _ in range(3000):
        cells = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5))) for _ in range(rng.randint(1, 6))]
        expected = io.StringIO()
        csv.writer(expected, lineterminator="\n").writerow(cells)
        assert csv_line(cells) == expected.getvalue().encode("utf-8"), cells
    assert csv_line(["a\rb", "1"]) == b'"a\rb",1\n'


def test_rows_are_held_in_batches_and_counted_per_layer(tmp_path, monkeypatch):
    """Rows reach the file a batch at a time (and all of them on close); `rows` and each layer's count
    include the rows held, and a layer that comes back continues its own evaluation numbers."""
    from types import SimpleNamespace

    from zz_event.mapspace.logger import MapspaceLog
    from zz_event.mapspace.writer import RowStream

    monkeypatch.setattr(RowStream, "FLUSH_ROWS", 3)
    monkeypatch.setattr(RowStream, "FLUSH_SECONDS", 3600.0)
    log = MapspaceLog(tmp_path / "m.csv", {}, MapspaceSchema(levels=1))
    monkeypatch.setattr(MapspaceSchema, "row", lambda self, cme, layer, evaluation, spatial_index: [
        layer, str(evaluation), str(spatial_index), "D1:K8", "tail"])
    cme = SimpleNamespace()
    file_rows = lambda: log.csv_path.read_bytes().count(b"\n") - 1  # noqa: E731
    for layer, rows in (("A", 2), ("B", 3), ("A", 1)):
        index = log.begin_spatial_mapping(layer, None, None)  # writes the sidecar: flushes what is held
        for _ in range(rows):
            log.record(cme, layer, index)
        if layer == "B":
            assert file_rows() == 2 + 3 and log.rows == 5  # the third row of the batch flushed
    assert (log.rows, file_rows()) == (6, 5)
    log.close("completed")
    lines = log.csv_path.read_text().splitlines()[1:]
    assert [line.split(",")[:3] for line in lines] == [
        ["A", "0", "0"], ["A", "1", "0"], ["B", "0", "0"], ["B", "1", "0"], ["B", "2", "0"], ["A", "2", "1"],
    ]
    meta = json.loads(meta_path(log.csv_path).read_text())
    assert meta["rows"] == 6
    assert meta["layers"] == [{"name": "A", "rows": 3, "spatial_mappings": 2},
                              {"name": "B", "rows": 3, "spatial_mappings": 1}]


def test_raw_word_accesses_follow_the_direction_names_whatever_the_dict_order():
    """ZigZag's records are read by position when their keys come in DataDirection order, by key if not."""
    from types import SimpleNamespace

    from zigzag.hardware.architecture.memory_port import DataDirection

    from zz_event.mapspace.rows import raw_numbers
    from zz_event.model.vocabulary import DIRECTIONS

    values = {d: 10 * i + 1 for i, d in enumerate(DataDirection)}
    in_order = SimpleNamespace(data=dict(values))
    reversed_order = SimpleNamespace(data=dict(reversed(values.items())))
    expected = tuple(next(v for d, v in values.items() if str(d) == name) for name in DIRECTIONS)
    for access in (in_order, reversed_order):
        raw = raw_numbers(({"W": [access]}, 5, 1.0, 2.0, 0.5))
        assert raw.words[0] == (expected,) and raw.words[1:] == ((), ())
