"""Mappings per CPU second of `zz-event search` against ZigZag's own CostModelEvaluations per CPU second.

LeNet-5 conv2 (input-centric, from inputs/lenet5/lenet5.onnx) on the toy core, its one spatial mapping:
- ZigZag: its LOMA search of the layer (`TemporalMappingGeneratorStage` over `CostModelStage`: orderings,
  memory allocation, one CostModelEvaluation per ordering), at `--lpf` (6, ZigZag's default): CMEs per CPU s;
- the search (`zz_event.search.stage.search_space`, opt energy, top 5): LOMA's orderings, its own allocation,
  the engine's exact cost of each that its energy bound does not rule out (`search.pruned`: an ordering
  ruled out cannot rank, so the best are the exhaustive search's), the 5 best kept with their engine results and
  each built as a corrected CME (`stage.Found.cme`, built on first use; the CLI reports and writes all 5, so
  the timing builds all 5), at the same `--lpf`, engine memos cleared first (cold): mappings ranked per CPU
  s (the ruled-out ones included, as they are ranked exactly), and beside it the mappings costed in full per CPU s.
Both in this process, interleaved, best of `--repeat` (CPU time, wall beside it). Then the memory allocation
alone, ZigZag's against the search's, per ordering of conv2 on the toy core and tpu_like; one search at lpf 8 whose
best energy must equal the minimum `event_driven_energy_pj` of conv2 in
validation/results/mapspace/lenet5_toy_lpf8.csv.gz (every mapping LOMA evaluated at lpf 8, logged by
`zz-event mapspace`; its ranking settings: `.meta.json`), and one past LOMA's limit (`--past-lpf`, default 9:
every prime factor its own loop) reporting what it finds that LOMA at lpf 6 and 8 does not, and by how much.
Last lines: `costed_speedup=` (mappings costed in full per CPU s / ZigZag's CMEs per CPU s), then
`speedup=<mappings ranked per CPU s, ruled-out ones included / ZigZag CMEs per CPU s>` (target: at least 100).

    python benchmarks/search_rate.py [--repeat N] [--lpf L] [--past-lpf L]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd
from zigzag.opt.loma.memory_allocator import MemoryAllocator, MemoryHierarchyTooSmallException, MemoryTooSmallException
from zigzag.stages.evaluation.cost_model_evaluation import CostModelStage
from zigzag.stages.mapping.temporal_mapping_generator_stage import TemporalMappingGeneratorStage

from zz_event.engine.evaluate import clear_caches
from zz_event.search.allocation import Allocator
from zz_event.search.orderings import loop_factors, orderings
from zz_event.search.run import layer_spaces
from zz_event.search.stage import SearchLog, search_space

ROOT = Path(__file__).resolve().parent.parent
LENET = ROOT / "inputs/lenet5/lenet5.onnx"
TOY = (ROOT / "inputs/toy/hardware.yaml", ROOT / "inputs/toy/mapping_lenet5.yaml")
TPU_LIKE = (ROOT / "inputs/tpu_like/hardware.yaml", ROOT / "inputs/tpu_like/mapping.yaml")
LOGGED = {lpf: ROOT / f"validation/results/mapspace/lenet5_toy_lpf{lpf}.csv{'.gz' if lpf == 8 else ''}"
          for lpf in (6, 8)}


def zigzag_search(space, lpf: int) -> tuple[int, float, float]:
    """CMEs, CPU and wall seconds of ZigZag's own LOMA search of the layer."""
    space.layer.spatial_mapping = space.unrolling
    stage = TemporalMappingGeneratorStage(
        [CostModelStage], accelerator=space.accelerator, layer=space.layer, spatial_mapping=space.spatial_mapping,
        spatial_mapping_int=space.spatial_mapping_int, temporal_mapping_type=space.temporal_mapping_type,
        loma_lpf_limit=lpf, access_same_data_considered_as_no_access=True)
    cpu, wall = time.process_time(), time.perf_counter()
    count = sum(1 for _ in stage.run())
    return count, time.process_time() - cpu, time.perf_counter() - wall


def allocation_times(space, lpf: int) -> tuple[float, float]:
    """CPU seconds per ordering of ZigZag's `MemoryAllocator` and of the search's `Allocator` (a fresh one: its
    tensor-size memo starts empty), over every ordering at `lpf`."""
    lpfs = loop_factors(space.accelerator, space.layer, space.spatial_mapping, lpf)
    every = list(orderings(lpfs))
    dims = {str(d): d for d in space.layer.layer_dim_sizes.data}
    cpu = time.process_time()
    for ordering in every:
        try:
            MemoryAllocator(space.accelerator, space.layer, space.spatial_mapping, [(dims[d], f) for d, f in ordering],
                            space.temporal_mapping_type).run()
        except (MemoryTooSmallException, MemoryHierarchyTooSmallException):
            pass
    theirs = (time.process_time() - cpu) / len(every)
    cpu = time.process_time()
    allocator = Allocator(space.accelerator, space.layer, space.spatial_mapping)
    for ordering in every:
        allocator.allocate(ordering)
    return theirs, (time.process_time() - cpu) / len(every)


def our_search(space, lpf: int):
    """The search's result, CPU and wall seconds, from cold engine memos, with every reported mapping's
    corrected CME built (as `zz-event search` reports and writes each of the top 5)."""
    clear_caches()
    cpu, wall = time.process_time(), time.perf_counter()
    found = search_space(space, SearchLog("energy", 5, lpf))
    for kept in found.best:
        _ = kept.cme
    return found, time.process_time() - cpu, time.perf_counter() - wall


def logged_minimum(lpf: int) -> tuple[float, str]:
    rows = pd.read_csv(LOGGED[lpf])
    rows = rows[rows.layer == "conv2"]
    best = rows.loc[rows.event_driven_energy_pj.idxmin()]
    return float(best.event_driven_energy_pj), str(best.temporal_ordering)


def ordering_text(found) -> str:
    return " ".join(f"{d}{s}" for d, s in found.ordering)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="interleaved runs of each side (best is kept)")
    parser.add_argument("--lpf", type=int, default=6, help="lpf limit of the timed searches (ZigZag's default 6)")
    parser.add_argument("--past-lpf", type=int, default=9, help="a search past LOMA's lpf 8 (0: skip)")
    args = parser.parse_args()
    logging.getLogger("zigzag").setLevel(logging.ERROR)
    (space,) = layer_spaces(str(LENET), str(TOY[0]), str(TOY[1]), "conv2")

    zig, ours = [], []
    for _ in range(args.repeat):  # interleaved: load on the machine hits both alike
        zig.append(zigzag_search(space, args.lpf))
        found, cpu, wall = our_search(space, args.lpf)
        ours.append((found.ranked, cpu, wall, found.costed))
    z_count, z_cpu, z_wall = min(zig, key=lambda r: r[1])
    o_count, o_cpu, o_wall, o_costed = min(ours, key=lambda r: r[1])
    z_rate, o_rate, c_rate = z_count / z_cpu, o_count / o_cpu, o_costed / o_cpu
    print(f"ZigZag LOMA, lpf {args.lpf}: {z_count} CMEs in {z_cpu:.2f} s CPU ({z_wall:.2f} s wall): "
          f"{z_rate:.0f} per CPU s ({1e3 / z_rate:.2f} ms each)")
    print(f"zz-event search, lpf {args.lpf}: {o_count} mappings ranked in {o_cpu:.2f} s CPU ({o_wall:.2f} s wall): "
          f"{o_rate:.0f} per CPU s ({1e3 / o_rate:.3f} ms each); of them {o_costed} costed in full "
          f"({c_rate:.0f} per CPU s), {o_count - o_costed} ruled out by the energy bound")

    for name, hardware in (("toy", TOY), ("tpu_like", TPU_LIKE)):
        (conv2,) = layer_spaces(str(LENET), str(hardware[0]), str(hardware[1]), "conv2")
        theirs, ours_each = allocation_times(conv2, args.lpf)
        print(f"allocation, conv2 on {name}, lpf {args.lpf}: ZigZag's MemoryAllocator {theirs * 1e3:.3f} ms, the "
              f"search's {ours_each * 1e3:.3f} ms per ordering ({theirs / ours_each:.0f}x)")

    found, cpu, _ = our_search(space, 8)
    logged, logged_ordering = logged_minimum(8)
    best = found.best[0].result.energy_pj
    print(f"lpf 8: {found.ranked} mappings ranked in {cpu:.1f} s CPU ({found.ranked / cpu:.0f} per CPU s, "
          f"{found.ranked / cpu / z_rate:.1f}x ZigZag's CMEs per CPU s at lpf {args.lpf}; {found.costed} costed in "
          f"full, {found.costed / cpu:.0f} per CPU s); best "
          f"energy {best!r} pJ ({ordering_text(found.best[0])}); logged LOMA lpf 8 minimum {logged!r} pJ "
          f"({logged_ordering}): {'equal' if best == logged else 'DIFFERENT'}")
    if best != logged:
        raise SystemExit("the search's best energy at lpf 8 is not the logged minimum")

    if args.past_lpf:
        past, cpu, _ = our_search(space, args.past_lpf)
        top = past.best[0]
        print(f"lpf {args.past_lpf}: {past.ranked} mappings ranked in {cpu:.1f} s CPU ({past.ranked / cpu:.0f} "
              f"per CPU s; {past.costed} costed in full); best energy {top.result.energy_pj!r} pJ, latency "
              f"{top.result.latency_cycles} cycles "
              f"({ordering_text(top)})")
        for lpf in (6, 8):
            energy, ordering = logged_minimum(lpf)
            gain = 100 * (energy - top.result.energy_pj) / energy
            print(f"  vs LOMA lpf {lpf} best {energy!r} pJ ({ordering}): {gain:.2f} % less energy")
    print(f"costed_speedup={c_rate / z_rate:.1f}")
    print(f"speedup={o_rate / z_rate:.1f}")


if __name__ == "__main__":
    main()
