"""Re-ranking: known answers on a synthetic mapspace, Kendall's tau-b against brute force, the CLI."""

from __future__ import annotations

import json
import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from zz_event.cli import main as cli_main
from zz_event.errors import ZzEventError
from zz_event.mapspace.rerank import kendall_tau_b, rerank_file
from zz_event.mapspace.rows import MapspaceSchema


def _frame(layers: dict[str, list[tuple]]) -> pd.DataFrame:
    """A mapspace with the real schema; a mapping is (raw latency, raw energy, corrected latency, corrected energy)."""
    rows = []
    for name, mappings in layers.items():
        for i, (raw_lat, raw_e, ed_lat, ed_e) in enumerate(mappings):
            row = dict.fromkeys(MapspaceSchema(levels=1).columns, pd.NA)
            corrected = ed_lat is not None
            row.update(layer=name, evaluation=i, spatial_index=0, spatial_mapping="D1:K8",
                       temporal_ordering=f"ORD{i}", alloc_W=f"m[ORD{i}]", alloc_I=f"m[ORD{i}]", alloc_O=f"m[ORD{i}]",
                       corrected=int(corrected), uncorrected_reason="" if corrected else "pooling",
                       raw_latency_cycles=float(raw_lat), raw_energy_pj=float(raw_e))
            if corrected:
                row.update(event_driven_latency_cycles=ed_lat, event_driven_energy_pj=float(ed_e))
            rows.append(row)
    return pd.DataFrame(rows)


SYNTHETIC = {
    # raw pick: mapping 0 (latency 1); truly best: mapping 1 (corrected 1); raw pick truly costs 5.
    "A": [(1, 1, 5, 1), (2, 1, 1, 1), (3, 1, 2, 1), (4, 1, 3, 1), (5, 1, 4, 1)],
    # raw latency ties everywhere: ZigZag breaks them on energy (mapping 1 or 2), then takes the first (1).
    "B": [(3, 5, 2, 1), (3, 4, 2, 1), (3, 4, 1, 1)],
    "P": [(7, 7, None, None), (8, 8, None, None)],
}


@pytest.fixture
def synthetic_csv(tmp_path):
    path = tmp_path / "synthetic.csv"
    _frame(SYNTHETIC).to_csv(path, index=False)
    return path


def test_known_answers_by_latency(synthetic_csv):
    report = rerank_file(synthetic_csv, by="latency")
    a, b = report.layers
    assert (a.name, a.mappings, b.name, b.mappings) == ("A", 5, "B", 3)
    assert a.raw_best.evaluation == 0 and a.corrected_best.evaluation == 1 and a.differ
    assert (a.raw_best.raw_cost, a.raw_best.corrected_cost) == (1.0, 5.0)
    assert a.raw_best.temporal_ordering == "ORD0" and a.corrected_best.temporal_ordering == "ORD1"
    assert a.regret_pct == pytest.approx(400.0)
    assert a.kendall_tau == pytest.approx(0.2)  # 6 concordant, 4 discordant pairs of 10
    assert a.top_overlap == {1: 0.0, 10: 1.0, 100: 1.0}
    assert (a.mappings_lost, a.mappings_lost_pct) == (4, pytest.approx(80.0))
    assert b.raw_best.evaluation == 1 and b.corrected_best.evaluation == 2
    assert b.regret_pct == pytest.approx(100.0)
    assert b.kendall_tau is None  # raw latency is constant
    assert (b.mappings_lost, b.mappings_lost_pct) == (1, pytest.approx(100 / 3))
    assert b.top_overlap[1] == 0.0
    assert report.skipped == (("P", "pooling", 2),)


def test_known_answers_by_energy_and_edp(synthetic_csv):
    by_energy = rerank_file(synthetic_csv, by="energy")
    a = by_energy.layers[0]
    # every energy ties: ZigZag breaks energy ties on latency
    assert a.raw_best.evaluation == 0 and a.corrected_best.evaluation == 1
    assert a.regret_pct == 0.0 and a.mappings_lost == 0 and a.kendall_tau is None
    b = rerank_file(synthetic_csv, by="edp").layers[1]
    assert b.raw_best.evaluation == 1 and b.raw_best.raw_cost == 12.0  # EDP: 3 x 4, first of the tie
    assert b.corrected_best.evaluation == 2 and b.regret_pct == pytest.approx(100.0)


def test_rerank_cli_json(synthetic_csv, capsys, tmp_path):
    assert cli_main(["rerank", str(synthetic_csv), "--json", "--plot-dir", str(tmp_path / "plots")]) == 0
    data = json.loads(capsys.readouterr().out)
    layer = data["layers"][0]
    assert set(layer) >= {"name", "mappings", "raw_best", "corrected_best", "regret_pct", "kendall_tau",
                          "top_overlap", "mappings_lost", "mappings_lost_pct"}
    assert layer["top_overlap"] == {"1": 0.0, "10": 1.0, "100": 1.0}
    assert layer["raw_best"]["temporal_ordering"] == "ORD0" and layer["raw_best"]["corrected_cost"] == 5.0
    assert layer["corrected_best"]["raw_cost"] == 2.0
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["A_latency.png", "B_latency.png"]
    assert (tmp_path / "plots" / "A_latency.png").read_bytes().startswith(b"\x89PNG")


def test_rerank_cli_table(synthetic_csv, capsys):
    assert cli_main(["rerank", str(synthetic_csv), "--by", "EDP"]) == 0
    out = capsys.readouterr().out
    assert "regret %" in out and "note: P (2 mappings) is not re-ranked: pooling" in out


@pytest.mark.parametrize("content", [None, b"", b"a,b\n1,2\n", b"\x00\xff\xfe garbage\n\x00"])
def test_rerank_bad_file_is_one_line_exit_2(tmp_path, capsys, content):
    path = tmp_path / "bad.csv"
    if content is not None:
        path.write_bytes(content)
    assert cli_main(["rerank", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("zz-event: error:") and "\n" not in err and str(path) in err


def test_rerank_file_without_corrected_layer(tmp_path):
    path = tmp_path / "pool.csv"
    _frame({"P": SYNTHETIC["P"]}).to_csv(path, index=False)
    with pytest.raises(ZzEventError, match="no corrected layer"):
        rerank_file(path)


def _tau_b_brute(x, y):
    concordant = discordant = x_ties = y_ties = 0
    for i, j in combinations(range(len(x)), 2):
        dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
        if dx == 0 and dy == 0:
            continue
        if dx == 0:
            x_ties += 1
        elif dy == 0:
            y_ties += 1
        elif dx == dy:
            concordant += 1
        else:
            discordant += 1
    denominator = math.sqrt((concordant + discordant + x_ties) * (concordant + discordant + y_ties))
    return None if denominator == 0 else (concordant - discordant) / denominator


@pytest.mark.parametrize("seed", range(12))
def test_kendall_tau_b_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 90))
    spread = int(rng.integers(1, 12))  # small spreads: many ties
    x = rng.integers(0, spread, n).astype(float)
    y = (x * rng.integers(-1, 2) + rng.integers(0, spread, n)).astype(float)
    expected = _tau_b_brute(x, y)
    got = kendall_tau_b(x, y)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected, abs=1e-12)


def test_kendall_tau_b_edge_cases():
    assert kendall_tau_b([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert kendall_tau_b([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert kendall_tau_b([1], [2]) is None
    assert kendall_tau_b([1, 1, 1], [1, 2, 3]) is None
    big = np.arange(20_000, dtype=float)
    assert kendall_tau_b(big, big[::-1]) == pytest.approx(-1.0)
