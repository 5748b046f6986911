"""Bad input to every command ends the way the README promises: exit 2, one stderr line, no traceback, nothing
written. One table of cases; each names the command, how its arguments are made from a temporary folder, and a
fragment the error line must hold (the file, option or key at fault)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
import yaml
from conftest import INPUTS
from onnx import TensorProto, helper

from validation.simulate import main as simulate_main
from zz_event.cli import main as cli_main

TOY = INPUTS / "toy"
W, A, M, MF = TOY / "workload.yaml", TOY / "hardware.yaml", TOY / "mapping.yaml", TOY / "mapping_free.yaml"
LENET, LENET_MAP = INPUTS / "lenet5" / "lenet5.onnx", TOY / "mapping_lenet5.yaml"
S_HW, S_MAP = INPUTS / "stream" / "hardware" / "single_core.yaml", INPUTS / "stream" / "mapping" / "lenet5_1core.yaml"
TOO_LONG = "x" * 300
UNWRITABLE = "/proc/zz-event-test/out"  # /proc takes no new files, for root too


# ------------------------------------------------------------------------------------------ making bad files


def _text(tmp: Path, name: str, content: str | bytes) -> Path:
    path = tmp / "in" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


def _edit(src: Path, fn: Callable, name: str | None = None) -> Callable[[Path], Path]:
    """A maker: `src`'s YAML changed by `fn` (which mutates the data or returns new data), under `name`."""

    def make(tmp: Path) -> Path:
        data = yaml.safe_load(src.read_text())
        result = fn(data)
        data = result if isinstance(result, list) else data
        return _text(tmp, name or src.name, yaml.safe_dump(data, sort_keys=False))

    return make


def _dir(name: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / "in" / name).mkdir(parents=True)
        return tmp / "in" / name

    return make


def _raw(name: str, content: str | bytes) -> Callable[[Path], Path]:
    return lambda tmp: _text(tmp, name, content)


def _missing(name: str) -> Callable[[Path], Path]:
    return lambda tmp: tmp / "in" / name


def _onnx_relu_only(tmp: Path) -> Path:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 4, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "g", [x], [y])
    path = tmp / "in" / "relu.onnx"
    path.parent.mkdir(exist_ok=True)
    onnx.save(helper.make_model(graph), str(path))
    return path


def _layer(fn):
    return lambda data: fn(data[0])


def _set(key, value):
    def change(layer):
        layer[key] = value

    return _layer(change)


def _mem(name, key, value):
    def change(data):
        data["memories"][name][key] = value

    return change


def _port(key, value):
    def change(data):
        data["memories"]["sram_256KB"]["ports"][0][key] = value

    return change


FILE_KINDS = {  # bad files of any kind: (maker, fragment)
    "missing": (_missing("nope.yaml"), "nope.yaml"),
    "directory": (_dir("adir.yaml"), "adir.yaml"),
    "empty": (_raw("empty.yaml", ""), "empty.yaml"),
    "invalid yaml": (_raw("bad.yaml", "- id: [0\n"), "bad.yaml"),
    "not utf-8": (_raw("latin.yaml", b"- name: caf\xe9\n"), "latin.yaml"),
    "a number": (_raw("num.yaml", "42\n"), "num.yaml"),
}

WORKLOADS = {
    **{f"workload {k}": v for k, v in FILE_KINDS.items()},
    "workload corrupt onnx": (_raw("net.onnx", b"\x08\x07garbage"), "net.onnx"),
    "workload onnx without layers": (_onnx_relu_only, "relu.onnx"),
    "workload a dict": (_raw("dict.yaml", "name: x\n"), "dict.yaml"),
    "precision 0": (_edit(W, _layer(lambda la: la["operand_precision"].update(W=0))), "precision"),
    "precision negative": (_edit(W, _layer(lambda la: la["operand_precision"].update(I=-8))), "precision"),
    "operand_source missing layer": (_edit(W, _set("operand_source", {"I": 5, "W": 0})), "operand_source"),
    "unknown loop dim": (_edit(W, _layer(lambda la: (la["loop_dims"].append("Z"), la["loop_sizes"].append(2)))),
                         "Z"),
    "loop size 0": (_edit(W, _set("loop_sizes", [1, 8, 1, 0, 5, 3, 3])), "IY"),
    "loop size negative": (_edit(W, _set("loop_sizes", [1, -8, 1, 5, 5, 3, 3])), "K"),
    "loop size text": (_edit(W, _set("loop_sizes", [1, 8, 1, "five", 5, 3, 3])), "workload.yaml"),
    "loop lists differ": (_edit(W, _set("loop_sizes", [1, 8, 1, 5, 5, 3])), "loop_sizes"),
    "stride 0": (_edit(W, _set("zz_event", {"stride": 0})), "stride"),
    "output mismatch": (_edit(W, _set("zz_event", {"output": [4, 4]})), "output"),
    "unknown zz_event key": (_edit(W, _set("zz_event", {"strides": 2})), "zz_event"),
    "duplicate layer names": (_edit(W, lambda d: d + [{**d[0], "id": 1}]), "conv_layer"),
    "equation garbage": (_edit(W, _set("equation", "O=W")), "workload.yaml"),
    "no operand_precision": (_edit(W, _layer(lambda la: la.pop("operand_precision"))), "operand_precision"),
    "kernel larger than input": (_edit(W, _set("loop_sizes", [1, 8, 1, 2, 2, 3, 3])), "conv_layer"),
}

ACCELERATORS = {
    **{f"accelerator {k}": v for k, v in FILE_KINDS.items()},
    "accelerator not .yaml": (_raw("hw.json", "{}"), "hw.json"),
    "accelerator a list": (_raw("list.yaml", "- 1\n"), "list.yaml"),
    "memory size 0": (_edit(A, _mem("sram_256KB", "size", 0)), "size"),
    "memory size negative": (_edit(A, _mem("sram_256KB", "size", -8)), "size"),
    "memory too small": (_edit(A, _mem("sram_inputs_256KB", "size", 64)), "sram_inputs_256KB"),
    "bandwidth_min 0": (_edit(A, _port("bandwidth_min", 0)), "bandwidth"),
    "bandwidth_max 0": (_edit(A, _port("bandwidth_max", 0)), "bandwidth"),
    "array size 0": (_edit(A, lambda d: d["operational_array"].update(sizes=[0])), "sizes"),
    "array size negative": (_edit(A, lambda d: d["operational_array"].update(sizes=[-2])), "sizes"),
    "memory operand unknown": (_edit(A, _mem("sram_256KB", "operands", ["I3", "O"])), "operands"),
    "served dimension unknown": (_edit(A, _mem("sram_256KB", "served_dimensions", ["D9"])), "D9"),
    "no operational array": (_edit(A, lambda d: d.pop("operational_array")), "operational_array"),
    "latency 0": (_edit(A, _mem("sram_256KB", "latency", "x")), "latency"),
}

MAPPINGS = {
    **{f"mapping {k}": v for k, v in FILE_KINDS.items()},
    "link to missing memory operand": (_edit(M, _layer(lambda e: e["memory_operand_links"].update(I="I3"))), "I3"),
    "link from unknown operand": (_edit(M, _layer(lambda e: e["memory_operand_links"].update(Q="I1"))), "Q"),
    "temporal size 0": (_edit(M, _set("temporal_ordering", [["FY", 0], ["FX", 3], ["IX", 5], ["IY", 5]])), "FY"),
    "temporal size mismatch": (_edit(M, _set("temporal_ordering", [["FY", 3], ["FX", 3], ["IX", 4], ["IY", 5]])),
                               "IX"),
    "temporal size too large": (_edit(M, _set("temporal_ordering", [["FY", 3], ["FX", 3], ["IX", 25]])), "IX"),
    "spatial unroll 0": (_edit(M, _set("spatial_mapping", {"D1": ["K, 0"]})), "K"),
    "spatial unroll negative": (_edit(M, _set("spatial_mapping", {"D1": ["K, -2"]})), "spatial_mapping"),
    "unknown mapped dim": (_edit(M, _set("temporal_ordering", [["QQ", 3]])), "QQ"),
    "unknown array dim": (_edit(M, _set("spatial_mapping", {"D7": ["K, 8"]})), "D7"),
    "no default entry": (_edit(M, _set("name", "other")), "default"),
    "unroll beyond array": (_edit(M, _set("spatial_mapping", {"D1": ["K, 16"]})), "D1"),
}


# --------------------------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    id: str
    command: str  # a zz-event command, or "simulate" for `python -m validation.simulate`
    argv: Callable[[Path], list[str]]
    fragment: str


def _zigzag_args(command: str, workload, accelerator, mapping) -> Callable[[Path], list[str]]:
    def make(tmp: Path) -> list[str]:
        paths = [p(tmp) if callable(p) else p for p in (workload, accelerator, mapping)]
        files = ["--workload", str(paths[0]), "--accelerator", str(paths[1]), "--mapping", str(paths[2])]
        out = {"run": ["--out", str(tmp / "o")], "search": ["--out", str(tmp / "o"), "--no-progress"],
               "mapspace": ["--csv", str(tmp / "m.csv"), "--no-progress"], "simulate": []}[command]
        return ([] if command == "simulate" else [command]) + files + out

    return make


def _input_cases() -> list[Case]:
    cases = []
    for command in ("run", "mapspace", "search", "simulate"):
        for name, (maker, fragment) in WORKLOADS.items():
            cases.append(Case(f"{command}: {name}", command, _zigzag_args(command, maker, A, M), fragment))
        for name, (maker, fragment) in ACCELERATORS.items():
            cases.append(Case(f"{command}: {name}", command, _zigzag_args(command, W, maker, M), fragment))
        for name, (maker, fragment) in MAPPINGS.items():
            cases.append(Case(f"{command}: {name}", command, _zigzag_args(command, W, A, maker), fragment))
    return cases


def _with(command: str, extra: list[str] | Callable[[Path], list[str]]) -> Callable[[Path], list[str]]:
    base = _zigzag_args(command, W, A, M)
    return lambda tmp: base(tmp) + (extra(tmp) if callable(extra) else extra)


def _replace(argv: list[str], option: str, value: str) -> list[str]:
    out = list(argv)
    out[out.index(option) + 1] = value
    return out


def _out(command: str, option: str, value: Callable[[Path], str]) -> Callable[[Path], list[str]]:
    base = _zigzag_args(command, W, A, M)
    return lambda tmp: _replace(base(tmp), option, value(tmp))


def _a_file(tmp: Path) -> str:
    return str(_text(tmp, "afile", "x"))


def _under_a_file(tmp: Path) -> str:
    return str(_text(tmp, "afile", "x") / "sub")


def _output_cases() -> list[Case]:
    paths = {"an existing file": (_a_file, "afile"), "under a file": (_under_a_file, "afile"),
             "unwritable": (lambda t: UNWRITABLE, "/proc"), "too long": (lambda t: str(t / TOO_LONG), "255"),
             "empty": (lambda t: "", "empty")}  # fmt: skip
    cases = []
    for label, (value, fragment) in paths.items():
        cases.append(Case(f"run: --out {label}", "run", _out("run", "--out", value), fragment))
        cases.append(Case(f"search: --out {label}", "search", _out("search", "--out", value), fragment))
        if label != "an existing file":  # an existing CSV is overwritten
            cases.append(Case(f"mapspace: --csv {label}", "mapspace", _out("mapspace", "--csv", value), fragment))
        cases.append(Case(f"report: --out {label}", "report", lambda t, v=value: ["report", "--out", v(t)], fragment))
        cases.append(Case(f"stream: --out {label}", "stream", lambda t, v=value: _stream(t, out=v(t)), fragment))
        cases.append(Case(f"rerank: --plot-dir {label}", "rerank",
                          lambda t, v=value: ["rerank", str(_mapspace_csv(t)), "--plot-dir", v(t)], fragment))
    cases += [
        Case("mapspace: --csv a folder", "mapspace", _out("mapspace", "--csv", lambda t: str(_dir("d")(t))), "folder"),
        Case("run: --out holds a foreign zigzag/", "run", _foreign_zigzag, "zigzag"),
        Case("simulate: --mac-log a file", "simulate", _with("simulate", lambda t: ["--mac-log", _a_file(t)]),
             "afile"),
        Case("simulate: --mac-log under a file", "simulate",
             _with("simulate", lambda t: ["--mac-log", _under_a_file(t)]), "afile"),
    ]
    return cases


def _foreign_zigzag(tmp: Path) -> list[str]:
    (tmp / "o" / "zigzag").mkdir(parents=True)
    (tmp / "o" / "zigzag" / "precious.txt").write_text("not zz-event's")
    return _zigzag_args("run", W, A, M)(tmp)


def _stream(tmp: Path, hardware=S_HW, workload=LENET, mapping=S_MAP, out=None, extra=()) -> list[str]:
    paths = [p(tmp) if callable(p) else p for p in (hardware, workload, mapping)]
    return ["stream", "--hardware", str(paths[0]), "--workload", str(paths[1]), "--mapping", str(paths[2]),
            "--mode", "event", "--out", str(tmp / "s") if out is None else out, *extra]


def _mapspace_csv(tmp: Path) -> Path:
    """A small, valid mapspace CSV (two mappings of a made-up layer) for the rerank cases."""
    from zz_event.mapspace.rows import MapspaceSchema

    columns = MapspaceSchema(levels=1).columns
    rows = []
    for i in range(2):
        row = dict.fromkeys(columns, "")
        row.update(layer="L", evaluation=str(i), spatial_index="0", spatial_mapping="D1:K8",
                   temporal_ordering=f"T{i}", corrected="1", raw_latency_cycles=str(10 + i),
                   raw_energy_pj=str(5.0 + i), event_driven_latency_cycles=str(9 - i), event_driven_energy_pj="4.0")
        rows.append(",".join(row[c] for c in columns))
    return _text(tmp, "ms.csv", ",".join(columns) + "\n" + "\n".join(rows) + "\n")


def _rerank_file(make: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
    return lambda tmp: ["rerank", str(make(tmp))]


def _csv_variant(fn: Callable[[str], str], name: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        return _text(tmp, name, fn(_mapspace_csv(tmp).read_text()))

    return make


def _rerank_cases() -> list[Case]:
    files = {
        "missing": (_missing("nope.csv"), "nope.csv"),
        "a folder": (_dir("d.csv"), "d.csv"),
        "empty": (_raw("e.csv", ""), "e.csv"),
        "binary": (_raw("b.csv", b"\x00\xff\xfe" * 50), "b.csv"),
        "not a mapspace": (_raw("other.csv", "a,b\n1,2\n"), "other.csv"),
        "truncated mid-line": (_csv_variant(lambda s: s[: len(s) - 12], "cut.csv"), "cut.csv"),
        "two files concatenated": (_csv_variant(lambda s: s + s, "twice.csv"), "twice.csv"),
        "duplicate rows": (_csv_variant(lambda s: s + s.splitlines(True)[1], "dup.csv"), "dup.csv"),
        "not utf-8": (_raw("latin.csv", b"layer,evaluation\nL\xe9,0\n"), "latin.csv"),
        "corrupt parquet": (_raw("x.parquet", b"PAR1garbage"), "x.parquet"),
        "corrupt gzip": (_raw("x.csv.gz", b"\x1f\x8bgarbage"), "x.csv.gz"),
        "header only": (_csv_variant(lambda s: s.splitlines(True)[0], "head.csv"), "head.csv"),
    }
    cases = [Case(f"rerank: {name}", "rerank", _rerank_file(make), fragment) for name, (make, fragment) in
             files.items()]  # fmt: skip
    cases += [
        Case("rerank: --by unknown", "rerank", lambda t: ["rerank", str(_mapspace_csv(t)), "--by", "speed"], "--by"),
        Case("rerank: --variant unknown", "rerank", lambda t: ["rerank", str(_mapspace_csv(t)), "--variant", "x"],
             "--variant"),
    ]
    return cases


def _stream_cases() -> list[Case]:
    cores = S_HW.parent / "cores"
    absolute = lambda d: d.update(cores={k: str(cores / Path(v).name) for k, v in d["cores"].items()})  # noqa: E731
    s_hw_reject = _edit(S_HW, lambda d: (absolute(d), d.update(offchip_core_id=9)), "reject.yaml")
    s_map_reject = _edit(S_MAP, lambda d: d["layers"][0].pop("core_allocation") and None, "map_reject.yaml")
    inputs = {
        "hardware missing": ({"hardware": _missing("hw.yaml")}, "hw.yaml"),
        "hardware a folder": ({"hardware": _dir("hw.yaml")}, "hw.yaml"),
        "hardware invalid yaml": ({"hardware": _raw("hw.yaml", "a: [\n")}, "hw.yaml"),
        "hardware a list": ({"hardware": _raw("hw.yaml", "- 1\n")}, "hw.yaml"),
        "hardware Stream rejects": ({"hardware": s_hw_reject}, "offchip_core_id"),
        "hardware empty": ({"hardware": _raw("hw.yaml", "")}, "hw.yaml"),
        "hardware core file missing": ({"hardware": _edit(S_HW, lambda d: None, "alone.yaml")}, "toy_compute.yaml"),
        "hardware core unknown in mapping": (
            {"mapping": _edit(S_MAP, lambda d: d["layers"][0].update(core_allocation=[[7]]), "m.yaml")}, "core 7"),
        "workload missing": ({"workload": _missing("n.onnx")}, "n.onnx"),
        "workload yaml": ({"workload": W}, "workload.yaml"),
        "workload corrupt onnx": ({"workload": _raw("n.onnx", b"\x08garbage")}, "n.onnx"),
        "mapping missing": ({"mapping": _missing("m.yaml")}, "m.yaml"),
        "mapping invalid yaml": ({"mapping": _raw("m.yaml", "a: [\n")}, "m.yaml"),
        "mapping Stream rejects": ({"mapping": s_map_reject}, "core_allocation"),
        "mapping a number": ({"mapping": _raw("m.yaml", "3\n")}, "m.yaml"),
        "mapping names a missing layer": (
            {"mapping": _edit(S_MAP, lambda d: d["layers"][0].update(name="convX"), "m.yaml")}, "unknown layers"),
    }
    cases = [Case(f"stream: {name}", "stream", lambda t, k=kw: _stream(t, **k), frag)
             for name, (kw, frag) in inputs.items()]
    options = {"--time-limit 0": ["--time-limit", "0"], "--time-limit -5": ["--time-limit", "-5"],
               "--time-limit nan": ["--time-limit", "nan"], "--solver unknown": ["--solver", "gurobi_x"]}
    for name, extra in options.items():
        cases.append(Case(f"stream: {name}", "stream", lambda t, e=extra: _stream(t, extra=e), name.split()[0]))
    cases.append(Case("stream: --mode unknown", "stream", lambda t: _replace(_stream(t), "--mode", "fast"), "--mode"))
    return cases + _stream_data_cases()


def _npy(name: str, shape: tuple[int, ...]) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / "in").mkdir(exist_ok=True)
        np.save(tmp / "in" / name, np.ones(shape, np.float32))
        return tmp / "in" / name

    return make


def _stream_data_cases() -> list[Case]:
    """--data, --calibration and --unrolling-from of `zz-event stream`."""
    good = _npy("x.npy", (2, 1, 32, 32))
    with_data = lambda make, *more: lambda t: _stream(t, extra=["--data", str(make(t)), *more])  # noqa: E731
    summary = lambda make: lambda t: _stream(t, extra=["--unrolling-from", str(make(t))])  # noqa: E731
    return [
        Case("stream: --data missing", "stream", with_data(_missing("nope.npy")), "nope.npy"),
        Case("stream: --data not an array", "stream", with_data(_raw("t.npy", "text")), "t.npy"),
        Case("stream: --data of the wrong size", "stream", with_data(_npy("s.npy", (2, 1, 28, 28))), "s.npy"),
        Case("stream: --data with --mode frame", "stream",
             lambda t: _replace(with_data(good)(t), "--mode", "frame"), "--data"),
        Case("stream: --calibration without --data", "stream", lambda t: _stream(t, extra=["--calibration", "2"]),
             "--calibration"),
        Case("stream: --calibration above the samples", "stream", with_data(good, "--calibration", "3"),
             "--calibration"),
        Case("stream: --calibration 0", "stream", with_data(good, "--calibration", "0"), "--calibration"),
        Case("stream: --unrolling-from missing", "stream", summary(_missing("s.json")), "s.json"),
        Case("stream: --unrolling-from not json", "stream", summary(_raw("s.json", "{nope")), "s.json"),
        Case("stream: --unrolling-from no nodes", "stream", summary(_raw("s.json", '{"nodes": []}')), "s.json"),
        Case("stream: --unrolling-from with --mode frame", "stream",
             lambda t: _replace(summary(_raw("s.json", '{"nodes": []}'))(t), "--mode", "frame"), "--unrolling-from"),
    ]  # fmt: skip


def _data_cases() -> list[Case]:
    """`--data mnist:N` (issue 18): N a whole number from 1 to 1000; the digits are 1 x 32 x 32."""
    lenet28 = INPUTS / "lenet5" / "lenet5_pad2_28.onnx"
    cases = []
    for command in ("run", "mapspace"):
        for spec in ("mnist:0", "mnist:abc", "mnist:1001", "mnist:", "mnist"):
            extra = lambda t, c=command, s=spec: _zigzag_args(c, LENET, A, LENET_MAP)(t) + ["--data", s]  # noqa: E731
            cases.append(Case(f"{command}: --data {spec}", command, extra, f"{spec}: expected mnist:N"))
        extra = lambda t, c=command: _zigzag_args(c, lenet28, A, LENET_MAP)(t) + ["--data", "mnist:2"]  # noqa: E731
        cases.append(Case(f"{command}: --data mnist:2 for a 28x28 input", command, extra, "32 x 32"))
    return cases


def _option_cases() -> list[Case]:
    bad_numbers = {"0": "0", "-1": "-1", "text": "abc"}
    cases = []
    for command in ("run", "mapspace", "search", "simulate"):
        for label, value in bad_numbers.items():
            cases.append(Case(f"{command}: --lpf-limit {label}", command, _with(command, ["--lpf-limit", value]),
                              "--lpf-limit"))
        cases.append(Case(f"{command}: unknown option", command, _with(command, ["--frobnicate"]), "frobnicate"))
    cases += [
        Case("run: --opt unknown", "run", _with("run", ["--opt", "speed"]), "--opt"),
        Case("run: no --out", "run", lambda t: _zigzag_args("run", W, A, M)(t)[:-2], "--out"),
        Case("mapspace: --spatial-mappings 0", "mapspace", _with("mapspace", ["--spatial-mappings", "0"]),
             "--spatial-mappings"),
        Case("mapspace: --layers unknown", "mapspace", _with("mapspace", ["--layers", "nope"]), "nope"),
        Case("search: --layers unknown", "search", _with("search", ["--layers", "nope"]), "nope"),
        Case("search: --top 0", "search", _with("search", ["--top", "0"]), "--top"),
        Case("search: --opt unknown", "search", _with("search", ["--opt", "speed"]), "--opt"),
        Case("report: --jobs 0", "report", lambda t: ["report", "--out", str(t / "r"), "--jobs", "0"], "--jobs"),
        Case("report: --lpf-limit 0", "report", lambda t: ["report", "--out", str(t / "r"), "--lpf-limit", "0"],
             "--lpf-limit"),
        Case("report: --cores 3", "report", lambda t: ["report", "--out", str(t / "r"), "--cores", "3"], "--cores"),
        Case("report: no --out", "report", lambda t: ["report"], "--out"),
        Case("report: --data missing", "report", lambda t: ["report", "--out", str(t / "r"), "--data",
                                                             str(t / "nope.npy")], "nope.npy"),
        Case("report: --stream-data missing", "report", lambda t: ["report", "--out", str(t / "r"), "--stream-data",
                                                                    str(t / "nope.npy")], "nope.npy"),
        Case("report: --calibration without --stream-data", "report",
             lambda t: ["report", "--out", str(t / "r"), "--calibration", "2"], "calibration"),
        Case("no command", "run", lambda t: [], "COMMAND"),
        Case("unknown command", "run", lambda t: ["frobnicate"], "frobnicate"),
    ]
    return cases


CASES = _input_cases() + _output_cases() + _rerank_cases() + _stream_cases() + _data_cases() + _option_cases()


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_exit_2_nothing_written(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    argv = case.argv(tmp_path)
    before = _files(tmp_path)
    try:
        code = simulate_main(argv) if case.command == "simulate" else cli_main(argv)
    except SystemExit as stop:  # argparse's usage errors
        code = stop.code
    err = capsys.readouterr().err
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert case.fragment.lower() in lines[0].lower(), lines[0]
    assert _files(tmp_path) == before
    if "foreign" in case.id:
        assert (tmp_path / "o" / "zigzag" / "precious.txt").read_text() == "not zz-event's"


def test_the_table_covers_every_command():
    per_command = {}
    for case in CASES:
        per_command[case.command] = per_command.get(case.command, 0) + 1
    assert set(per_command) == {"run", "mapspace", "search", "rerank", "stream", "report", "simulate"}
    assert len(CASES) >= 120, per_command
    assert len({c.id for c in CASES}) == len(CASES)



def _big_conv(tmp: Path) -> Path:
    """224x224 input, 7x7 kernel, stride 2 (ResNet's first layer): no temporal mapping fits the toy core."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 224, 224])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 64, 112, 112])
    w = onnx.numpy_helper.from_array(np.zeros((64, 3, 7, 7), np.float32), "w")
    node = helper.make_node("Conv", ["x", "w"], ["y"], name="conv7", strides=[2, 2], pads=[3, 3, 3, 3],
                            kernel_shape=[7, 7])  # fmt: skip
    path = tmp / "big.onnx"
    onnx.save(helper.make_model(helper.make_graph([node], "g", [x], [y], [w])), str(path))
    return path


@pytest.mark.parametrize("command", ["run", "mapspace"])
def test_a_layer_no_mapping_fits_is_one_line_naming_it(tmp_path, command):
    """ZigZag's LOMA gives up inside the search (a 55-line traceback before): one line naming the layer, in a
    real process, and nothing left behind."""
    net = _big_conv(tmp_path)
    out = ["--out", str(tmp_path / "o")] if command == "run" else ["--csv", str(tmp_path / "m.csv"), "--no-progress"]
    argv = [command, "--workload", str(net), "--accelerator", str(A), "--mapping", str(LENET_MAP), *out]
    before = _files(tmp_path)
    result = subprocess.run([sys.executable, "-m", "zz_event.cli", *argv], cwd=tmp_path, capture_output=True,
                            text=True, timeout=600)  # fmt: skip
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "layer 'conv7'" in lines[0] and "no valid temporal mapping" in lines[0]
    assert _files(tmp_path) == before
