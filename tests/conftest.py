"""Shared fixtures: paths to the committed inputs, quiet ZigZag runs, and the seed's toy as a LoopNest."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from zz_event.model.geometry import AxisGeometry, ConvGeometry
from zz_event.model.nest import Loop, LoopNest, MemLevel, Port, SpatialLoop

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs"


@pytest.fixture(autouse=True)
def _quiet_zigzag():
    previous = logging.getLogger("zigzag").level
    logging.getLogger("zigzag").setLevel(logging.ERROR)
    yield
    logging.getLogger("zigzag").setLevel(previous)


@pytest.fixture
def toy():
    d = INPUTS / "toy"
    return {
        "workload": str(d / "workload.yaml"),
        "workload_output_centric": str(d / "workload_output_centric.yaml"),
        "hardware": str(d / "hardware.yaml"),
        "mapping": str(d / "mapping.yaml"),
        "mapping_free": str(d / "mapping_free.yaml"),
    }

def toy_nest() -> LoopNest:
    """The seed's toy as nest_from_cme reads it: K=8 on D1, ordering FY, FX, IX, IY (inner to outer)."""
    port = lambda name: Port(name, 128, 128)  # noqa: E731
    w = MemLevel("sram_256KB", 4, frozenset({"D1"}), 10.5, 12.8, {"rd_out_to_low": port("sram_256KB.r_port_1")})
    i = MemLevel("sram_inputs_256KB", 4, frozenset({"D1"}), 10.5, 12.8,
                 {"rd_out_to_low": port("sram_inputs_256KB.r_port_1")})
    o = MemLevel("sram_256KB", 4, frozenset({"D1"}), 10.5, 12.8,
                 {"rd_out_to_low": port("sram_256KB.r_port_2"), "wr_in_by_low": port("sram_256KB.w_port_1"),
                  "rd_out_to_high": port("sram_256KB.r_port_2"), "wr_in_by_high": port("sram_256KB.w_port_1")},
                 psum=True)
    return LoopNest(
        geometry=ConvGeometry(B=1, K=8, C=1, y=AxisGeometry(5, 3), x=AxisGeometry(5, 3)),
        centric="input",
        temporal=(Loop("FY", 3), Loop("FX", 3), Loop("IX", 5), Loop("IY", 5)),
        spatial=(SpatialLoop("D1", "K", 8),),
        levels={"W": (w,), "I": (i,), "O": (o,)},
        precision={"W": 16, "I": 16, "O": 16, "O_final": 16},
        mac_energy=0.04,
    )


def write_stats(request, label: str, stats) -> None:
    """Print a generated suite's case counts once its module ends, past pytest's output capture."""
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin("terminalreporter"), plugins.get_plugin("capturemanager")
    if reporter is not None and capture is not None and stats:
        with capture.global_and_fixture_disabled():
            reporter.write_line(f"\n[{label}] {stats}")
