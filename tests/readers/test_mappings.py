"""load_mapping: entries ZigZag accepts, OY/OX -> IY/IX translation with rescaled loop sizes, bad input."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import yaml

from zz_event.errors import InputFileError, MappingError, ZzEventError
from zz_event.readers.mappings import MappingTranslationWarning, load_mapping, save_mapping
from zz_event.readers.workloads import load_workload

ROOT = Path(__file__).resolve().parents[2]
TOY = ROOT / "inputs" / "toy"
LENET = ROOT / "inputs" / "lenet5" / "lenet5.onnx"
LENET28 = ROOT / "inputs" / "lenet5" / "lenet5_pad2_28.onnx"
LINKS = {"O": "O", "W": "I2", "I": "I1"}
TOY_OUTPUT_CENTRIC = {
    "id": 0, "name": "conv_layer", "operator_type": "Conv",
    "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
    "dimension_relations": ["ix=1*ox+1*fx", "iy=1*oy+1*fy"],
    "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"], "loop_sizes": [1, 8, 1, 3, 3, 3, 3],
    "operand_precision": {"W": 16, "I": 16, "O": 16, "O_final": 16}, "operand_source": {"I": 0, "W": 0},
}  # fmt: skip


def _entry(name: str, spatial: dict | None = None, ordering: list | None = None) -> dict:
    entry = {"name": name, "spatial_mapping": spatial or {"D1": ["K, 8"]}, "memory_operand_links": dict(LINKS)}
    if ordering is not None:
        entry["temporal_ordering"] = ordering
    return entry


def _write(tmp_path: Path, entries: list[dict]) -> Path:
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(entries, sort_keys=False))
    return path


def _load_quietly(path, workload) -> list[dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        return load_mapping(path, workload)


def _by_name(mapping: list[dict]) -> dict[str, dict]:
    return {entry["name"]: entry for entry in mapping}


def test_toy_mappings_pass_through_unchanged():
    workload = load_workload(TOY / "workload.yaml")
    for name in ("mapping.yaml", "mapping_free.yaml"):
        assert _load_quietly(TOY / name, workload) == yaml.safe_load((TOY / name).read_text())


def test_lenet_mappings_need_no_translation():
    for path in (TOY / "mapping_lenet5.yaml", ROOT / "inputs" / "tpu_like" / "mapping.yaml"):
        mapping = _load_quietly(path, load_workload(LENET))
        assert set(_by_name(mapping)) == {"default", "Pooling", "Add"}


def test_complete_ordering_is_rescaled_to_the_input(tmp_path):
    ordering = [["FX", 5], ["FY", 5], ["OX", 4], ["OX", 7], ["OY", 28]]
    path = _write(tmp_path, [_entry("default"), _entry("conv1", {"D1": ["K, 8"]}, ordering)])
    with pytest.warns(MappingTranslationWarning, match="conv1") as record:
        mapping = load_mapping(path, load_workload(LENET))  # conv1: OY/OX 28, IY/IX 32
    assert str(path) in str(record[0].message)
    assert _by_name(mapping)["conv1"]["temporal_ordering"] == [["FX", 5], ["FY", 5], ["IX", 4], ["IX", 8], ["IY", 32]]
    assert [e["name"] for e in mapping].count("conv1") == 1


def test_same_size_axis_is_only_renamed(tmp_path):
    ordering = [["FX", 5], ["FY", 5], ["OX", 4], ["OX", 7], ["OY", 28]]
    path = _write(tmp_path, [_entry("default"), _entry("conv1", None, ordering)])
    with pytest.warns(MappingTranslationWarning, match=r"\[OY, 28\] -> \[IY, 28\]"):
        mapping = load_mapping(path, load_workload(LENET28))  # padding 2: IY = OY = 28
    assert _by_name(mapping)["conv1"]["temporal_ordering"][2:] == [["IX", 4], ["IX", 7], ["IY", 28]]


def test_partial_ordering_and_spatial_translation(tmp_path):
    spatial = {"D1": ["K, 4", "OX, 2"]}
    ordering = [["OX", 7], ["OY", 4], ["OY", "*"]]
    path = _write(tmp_path, [_entry("default"), _entry("Conv", spatial, ordering)])
    with pytest.warns(MappingTranslationWarning):
        mapping = _by_name(load_mapping(path, load_workload(LENET)))
    conv1 = mapping["conv1"]
    assert conv1["spatial_mapping"] == {"D1": ["K, 4", "IX, 2"]}
    # OX: 28 / 2 = 14 temporal, the mapping gives only 7 (partial): gcd(7, 32 / 2) = 1 -> dropped; OY has a '*'
    assert conv1["temporal_ordering"] == [["IY", 4], ["IY", "*"]]
    assert mapping["conv2"]["spatial_mapping"] == {"D1": ["K, 4", "IX, 2"]}
    assert mapping["Conv"] == _entry("Conv", spatial, ordering)  # the user's entry is kept for other layers


def test_output_centric_yaml_mapping_reproduces_the_seed(tmp_path):
    """The seed's toy layer written output-centric, with its ordering in output loops, gives the seed's numbers."""
    from zigzag.api import get_hardware_performance_zigzag

    workload = load_workload([TOY_OUTPUT_CENTRIC])
    ordering = [["FY", 3], ["FX", 3], ["OX", 3], ["OY", 3]]
    with pytest.warns(MappingTranslationWarning):
        mapping = load_mapping(_write(tmp_path, [_entry("default", None, ordering)]), workload)
    assert _by_name(mapping)["conv_layer"]["temporal_ordering"] == [["FY", 3], ["FX", 3], ["IX", 5], ["IY", 5]]
    mapping_path = save_mapping(mapping, tmp_path / "out" / "translated.yaml")
    energy, latency, _ = get_hardware_performance_zigzag(
        workload.zigzag_workload, str(TOY / "hardware.yaml"), mapping_path,
        dump_folder=str(tmp_path / "zz"), loma_show_progress_bar=False, lpf_limit=6,
    )  # fmt: skip
    assert (round(energy, 1), latency) == (7939.5, 225)


def test_save_mapping_round_trip(tmp_path):
    mapping = _load_quietly(TOY / "mapping.yaml", load_workload(TOY / "workload.yaml"))
    path = save_mapping(mapping, tmp_path / "m.yaml")
    assert yaml.safe_load(Path(path).read_text()) == mapping
    with pytest.raises(ZzEventError, match="yaml"):
        save_mapping(mapping, tmp_path / "m.yml")


# --------------------------------------------------------------------------------------------------- bad input


def test_unknown_loop_dimension(tmp_path):
    path = _write(tmp_path, [_entry("default", {"D1": ["KK, 8"]})])
    with pytest.raises(MappingError) as info:
        load_mapping(path, load_workload(TOY / "workload.yaml"))
    message = str(info.value)
    assert str(path) in message and "'KK'" in message and "\n" not in message
    path = _write(tmp_path, [_entry("default", None, [["FZ", 3]])])
    with pytest.raises(MappingError, match="'FZ'"):
        load_mapping(path, load_workload(TOY / "workload.yaml"))


def test_missing_and_invalid_mapping_files(tmp_path):
    workload = load_workload(TOY / "workload.yaml")
    missing = tmp_path / "missing.yaml"
    with pytest.raises(InputFileError, match="not found") as info:
        load_mapping(missing, workload)
    assert str(missing) in str(info.value)
    broken = tmp_path / "broken.yaml"
    broken.write_text("- name: default\n  spatial_mapping: {D1: [K, 8]\n")
    with pytest.raises(InputFileError, match="invalid YAML") as info:
        load_mapping(broken, workload)
    assert str(broken) in str(info.value) and "\n" not in str(info.value)


def test_zigzag_mapping_validator_rejection_is_quoted(tmp_path, capfd):
    path = _write(tmp_path, [_entry("conv_layer")])  # no default entry
    with pytest.raises(MappingError, match="No default mapping defined") as info:
        load_mapping(path, load_workload(TOY / "workload.yaml"))
    assert str(path) in str(info.value)
    path = _write(tmp_path, [_entry("default", {"D1": ["K,8"]})])  # ZigZag wants "K, 8"
    with pytest.raises(MappingError, match="regex"):
        load_mapping(path, load_workload(TOY / "workload.yaml"))
    assert capfd.readouterr().err == ""
