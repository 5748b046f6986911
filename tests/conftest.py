"""Shared fixtures: paths to the committed inputs, and quiet ZigZag runs into temporary folders."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

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
