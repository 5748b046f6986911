"""Interruption and concurrency: `mapspace`, `run` and `report` killed with SIGINT, SIGTERM and SIGKILL at a few
points leave what they promise (a mapspace CSV its sidecar describes; no staging folder and no half-written output
from `run`; no orphaned worker process); a second writer to the same output is refused."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import INPUTS, ROOT

from zz_event.mapspace import load, read_meta
from zz_event.output_files import is_locked, lock_path, output_lock

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc")

TOY = INPUTS / "toy"
LENET = INPUTS / "lenet5" / "lenet5.onnx"
def _start(args: list[str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "zz_event.cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def _wait_for(condition, proc: subprocess.Popen, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"the condition never held while the process ran (exit {proc.poll()})")


def _catches(pid: int, signum: int) -> bool:
    """Whether process `pid` has a handler for `signum` (its SigCgt mask in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) >> (signum - 1) & 1)
    return False


def _children(pid: int) -> set[int]:
    """Every live descendant of `pid` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


def _all_gone(pids: set[int], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(pids)


def _mapspace_args(csv: Path) -> list[str]:
    """LeNet-5's conv1 on the toy core at lpf 7: 5,040 mappings, a run of tens of seconds (at lpf 6 its 720
    mappings took about 5 s once the correction ran inline, and a mid-run signal could arrive after the end)."""
    return ["mapspace", "--workload", str(LENET), "--accelerator", str(TOY / "hardware.yaml"), "--mapping",
            str(TOY / "mapping_lenet5.yaml"), "--layers", "conv1", "--lpf-limit", "7", "--csv", str(csv),
            "--no-progress", "--parquet", "no"]  # fmt: skip


def _rows_written(csv: Path, rows: int):
    return lambda: csv.exists() and csv.read_bytes().count(b"\n") > rows


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
@pytest.mark.parametrize("point", ["at start", "mid-run"])
def test_mapspace_sidecar_agrees_with_the_csv_after_any_kill(tmp_path, signum, point):
    csv = tmp_path / "m.csv"
    proc = _start(_mapspace_args(csv))
    if point == "at start":  # imports or input checks: no output may exist yet, or a header with its sidecar
        # Once the command has begun (its handlers are in place): a Ctrl-C while Python itself starts up
        # ends in Python's own fatal error, which no program can catch.
        _wait_for(lambda: _catches(proc.pid, signal.SIGTERM), proc)
    else:
        _wait_for(_rows_written(csv, 20), proc)
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "Traceback" not in err, err
    meta = read_meta(csv)
    if not csv.exists():
        assert point == "at start" and meta is None
        return
    assert csv.read_bytes().endswith(b"\n")
    frame = load(csv)
    assert meta is not None and meta["rows"] == len(frame) and meta["completed"] is False
    assert meta["status"] == ("killed" if signum == signal.SIGKILL else "interrupted")
    assert not is_locked(csv)
    if point == "mid-run":
        assert len(frame) >= 20


def test_a_second_mapspace_to_the_same_csv_is_refused(tmp_path):
    csv = tmp_path / "m.csv"
    first = _start(_mapspace_args(csv))
    _wait_for(_rows_written(csv, 5), first)
    second = _start(_mapspace_args(csv))
    _out, err = second.communicate(timeout=300)
    assert second.returncode == 2 and "another zz-event run" in err and len(err.strip().splitlines()) == 1
    assert first.poll() is None
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=120)
    frame, meta = load(csv), read_meta(csv)
    # On a quiet machine the first run may finish before the SIGTERM arrives: either way its rows are whole.
    assert meta["rows"] == len(frame) > 5 and meta["status"] in ("interrupted", "completed")
    assert list(frame["evaluation"]) == list(range(len(frame)))  # one writer: one run's rows, in order


def _run_args(out: Path) -> list[str]:
    return ["run", "--workload", str(LENET), "--accelerator", str(TOY / "hardware.yaml"), "--mapping",
            str(TOY / "mapping_lenet5.yaml"), "--out", str(out)]  # fmt: skip


def _staging(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if ".zz-event-staging-" in p.name]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_run_killed_mid_run_leaves_no_output_and_no_orphans(tmp_path, signum):
    out = tmp_path / "o"
    (out / "keep.txt").parent.mkdir()
    (out / "keep.txt").write_text("mine")
    proc = _start(_run_args(out))
    _wait_for(lambda: bool(_staging(tmp_path)), proc)
    time.sleep(0.5)
    children = _children(proc.pid)  # the correction runs inline: none expected, and none may outlive it
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "Traceback" not in err, err
    assert _all_gone(children), "a child process outlived its run"
    assert not (out / "summary.json").exists() and (out / "keep.txt").read_text() == "mine"
    assert not is_locked(out)
    if signum != signal.SIGKILL:
        assert _staging(tmp_path) == [] and not lock_path(out).exists()
    else:  # SIGKILL runs no clean-up: the hidden staging folder stays until the next writer takes the lock
        with output_lock(out, "--out"):
            assert _staging(tmp_path) == []


def test_a_second_run_to_the_same_out_is_refused(tmp_path):
    out = tmp_path / "o"
    first = _start(_run_args(out))
    _wait_for(lambda: lock_path(out).exists(), first)
    second = _start(_run_args(out))
    _out, err = second.communicate(timeout=300)
    first.send_signal(signal.SIGTERM)
    first.communicate(timeout=120)
    assert second.returncode == 2 and "another zz-event run" in err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_report_killed_leaves_no_worker_and_no_staging(tmp_path, signum):
    out = tmp_path / "r"
    proc = _start(["report", "--out", str(out), "--jobs", "2"])
    _wait_for(lambda: len(_children(proc.pid)) >= 2, proc)  # the pool's worker processes are up
    time.sleep(2.0)
    workers = _children(proc.pid)
    start = time.monotonic()
    proc.send_signal(signum)
    _out, err = proc.communicate(timeout=60)
    assert time.monotonic() - start < 30, "the report did not end promptly"
    assert proc.returncode != 0 and "Traceback" not in err, err
    assert _all_gone(workers), f"orphaned report workers: {_alive(workers)}"
    assert not (out / "report.md").exists()
    if signum != signal.SIGKILL:
        assert _staging(tmp_path) == []


def test_an_interrupted_early_mapspace_never_leaves_a_sidecar_without_its_csv(tmp_path):
    """Whatever the moment, the CSV exists whenever its sidecar does (the header is written first)."""
    for delay in (0.5, 1.0, 1.5):
        csv = tmp_path / f"m{delay}.csv"
        proc = _start(_mapspace_args(csv))
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=120)
        sidecar = csv.with_name(csv.name + ".meta.json")
        assert csv.exists() or not sidecar.exists()
        if csv.exists():
            assert read_meta(csv)["rows"] == len(load(csv))

