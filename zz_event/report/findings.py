"""The report's findings, stated from its own numbers: where event-driven costs equal frame-based ones for a dense
(unpadded) network, where they differ -- padding taps, partial-sum traffic, the reuse input-centric loop orders
allow -- and by how much. Every sentence is built from the computed rows; nothing here is a constant."""

from __future__ import annotations

from typing import Any

from zz_event.readers.hardware import read_yaml
from zz_event.report.multi_core import SAME
from zz_event.report.plots import network_total
from zz_event.report.single_core import mac_layers
from zz_event.report.wins import NETWORK

__all__ = ["findings", "pct"]


def pct(value: float, reference: float) -> str:
    """``value`` relative to ``reference`` as a signed percentage."""
    return "n/a" if not reference else f"{(value - reference) / reference:+.1%}"


def findings(data: Any) -> list[str]:
    """Markdown bullets."""
    out = [_mac_counts(data), _network(data)]
    if data.padded:
        out.append(_padding(data))
    out += [_partial_sums(data), _reuse(data)]
    if data.data is not None:
        out.append(_on_data(data.data))
    if data.stream:
        out.append(_stream(data))
    return out


def _on_data(chapter: Any) -> str:
    """Event-driven against the best frame-based mapping on the data, for the whole network, and how far a density
    number is from the exact count."""
    head = chapter.tables.headline
    net = head[head["layer"] == NETWORK].set_index("zero_handling")
    parts = [f"{kind}: {pct(r['event latency_cycles'], r['best frame latency_cycles'])} latency, "
             f"{pct(r['event energy_pj'], r['best frame energy_pj'])} energy" for kind, r in net.iterrows()]
    errors = chapter.tables.density_model_error.set_index("layer")
    worst = errors.drop(index=NETWORK)["energy_pj error %"].abs().idxmax()
    return (f"**On data** ({chapter.samples:,} samples of `{chapter.source}`, mean input density "
            f"{net['density'].iloc[0]:.0%}): event-driven against the best frame-based mapping for the whole "
            f"network, per zero handling of the frame-based core -- {'; '.join(parts)}. A density-only model "
            f"(random masks of each layer's mean density) is off by {errors.loc[NETWORK, 'energy_pj error %']:+.1f}% "
            f"in network energy, and by {errors.loc[worst, 'energy_pj error %']:+.1f}% on {worst}.")


def _mac_counts(data: Any) -> str:
    geometry = {layer.name: layer.geometry for layer in mac_layers(data.options.network)}
    parts, equal = [], True
    for name, rows in data.single.items():
        event, raw = rows["event"].costs.macs, rows["event-raw"].costs.macs
        frame = geometry[name].frame_macs()
        equal &= event == frame == rows["frame-WS"].costs.macs
        parts.append(f"{name} {event:,} = {frame:,}" + (f" (ZigZag's input-centric count: {raw:,}, {pct(raw, frame)})"
                                                          if raw != frame else ""))  # fmt: skip
    verdict = "equal" if equal else "NOT all equal"
    return (f"**MAC counts without padding are {verdict}.** Event-driven (executed) vs frame-based MACs: "
            f"{'; '.join(parts)}. ZigZag's input-centric layer counts every (input, tap) pair, including those "
            f"that reach no output; zz-event executes only the valid ones, which for an unpadded layer are exactly "
            f"the frame-based MACs.")  # fmt: skip


def _network(data: Any) -> str:
    t = {label: network_total(data.single, label) for label in ("frame-WS", "frame-OS", "event-raw", "event")}
    best = min(("frame-WS", "frame-OS"), key=lambda k: (t[k].latency_cycles, t[k].energy_pj))
    e, f, r = t["event"], t[best], t["event-raw"]
    return (f"**Whole network, one core** (sum of the MAC layers): event-driven {e.latency_cycles:,.0f} cycles, "
            f"{e.energy_pj:,.0f} pJ; best frame-based ({best}) {f.latency_cycles:,.0f} cycles, {f.energy_pj:,.0f} pJ "
            f"(event-driven {pct(e.latency_cycles, f.latency_cycles)} latency, {pct(e.energy_pj, f.energy_pj)} "
            f"energy); event-raw (ZigZag on the input-centric layers) {r.latency_cycles:,.0f} cycles, "
            f"{r.energy_pj:,.0f} pJ, i.e. ZigZag overestimates the event-driven core by "
            f"{pct(r.latency_cycles, e.latency_cycles)} in latency and {pct(r.energy_pj, e.energy_pj)} in energy. "
            + _dense_equality(data))


def _dense_equality(data: Any) -> str:
    """Whether the event mapping under ZigZag's static partial-sum rule costs exactly what frame-WS costs."""
    rows = data.single.items()
    equal = [name for name, per in rows if _same(per["event, no readiness"].costs, per["frame-WS"].costs)]
    if not equal:
        return "No layer's event mapping costs what frame-WS costs once readiness is switched off."
    return (f"With output readiness switched off, the event-driven mapping costs exactly what frame-WS costs (latency, "
            f"energy and every operand's words) for {len(equal)} of {len(data.single)} layers ({', '.join(equal)}): "
            f"in the dense case event-driven differs from frame-based only by readiness.")


def _same(a: Any, b: Any) -> bool:
    return (a.latency_cycles == b.latency_cycles and abs(a.energy_pj - b.energy_pj) <= 1e-6 * max(b.energy_pj, 1.0)
            and all(a.word_accesses.get(op) == b.word_accesses.get(op) for op in ("W", "I", "O")))


def _padding(data: Any) -> str:
    geometry = {layer.name: layer.geometry for layer in mac_layers(data.options.padded, data.options.padded_layers)}
    parts = []
    for name, rows in data.padded.items():
        g, e = geometry[name], rows["event"].costs
        frame = min((rows[k].costs for k in ("frame-WS", "frame-OS")), key=lambda c: (c.latency_cycles, c.energy_pj))
        parts.append(
            f"{name}: {g.valid_macs():,} event-driven vs {g.frame_macs():,} frame-based MACs "
            f"({pct(g.valid_macs(), g.frame_macs())}: the padding taps trigger no event); latency "
            f"{e.latency_cycles:,.0f} vs {frame.latency_cycles:,.0f} cycles "
            f"({pct(e.latency_cycles, frame.latency_cycles)}), "
            f"energy {e.energy_pj:,.0f} vs {frame.energy_pj:,.0f} pJ ({pct(e.energy_pj, frame.energy_pj)}) against the "
            f"best frame-based mapping"
        )
    return "**Padding: where the counts differ.** " + "; ".join(parts) + "."


def _partial_sums(data: Any) -> str:
    parts = []
    for name, rows in data.single.items():
        labels = ("event", "event, no readiness", "frame-WS", "frame-OS")
        o = {k: rows[k].costs.word_accesses.get("O", 0) for k in labels}
        parts.append(f"{name} {o['event']:,} (no readiness {o['event, no readiness']:,}, "
                     f"{pct(o['event'], o['event, no readiness'])}; frame-WS {o['frame-WS']:,}, "
                     f"frame-OS {o['frame-OS']:,})")  # fmt: skip
    return ("**Partial-sum traffic** (O word accesses, every level and direction), event-driven with output "
            "readiness vs the same mapping with ZigZag's static partial-sum rule and vs the frame-based mappings: "
            + "; ".join(parts) + ". " + _output_levels_note(data.options.accelerator))


def _output_levels_note(accelerator: str) -> str:

    memories = (read_yaml(accelerator) or {}).get("memories") or {}
    levels = sum(1 for m in memories.values() if "O" in (m.get("operands") or []))
    if levels != 1:
        return f"The accelerator keeps outputs in {levels} memory levels."
    return ("The accelerator keeps outputs in one memory, read and written on every executed MAC step (no "
            "accumulator in the MAC): readiness can then only save the read before each output's first "
            "contribution, and an output-stationary order saves nothing at the MAC boundary.")


def _reuse(data: Any) -> str:
    same, parts = [], []
    for name, rows in data.single.items():
        e, ws, st = rows["event"].costs, rows["frame-WS"].costs, rows["event-IS"].costs
        if all(e.word_accesses.get(op) == ws.word_accesses.get(op) for op in ("W", "I")):
            same.append(name)
        inner = e.temporal_ordering[0][0] if e.temporal_ordering else "-"
        parts.append(
            f"{name}: best event order (innermost {inner}) W {e.word_accesses.get('W', 0):,} / I "
            f"{e.word_accesses.get('I', 0):,} words; input-stationary (innermost "
            f"{st.temporal_ordering[0][0] if st.temporal_ordering else '-'}) W {st.word_accesses.get('W', 0):,} / I "
            f"{st.word_accesses.get('I', 0):,} words, {st.latency_cycles:,.0f} cycles "
            f"({pct(st.latency_cycles, e.latency_cycles)}), {st.energy_pj:,.0f} pJ ({pct(st.energy_pj, e.energy_pj)})"
        )
    verdict = (f"For {', '.join(same)} the best event-driven mapping moves exactly the W and I words of frame-WS. "
               if same else "")  # fmt: skip
    return ("**Reuse options of input-centric loop orders.** " + verdict + "; ".join(parts) + ". Input-centric "
            "orders can keep the weight at the MAC (innermost B, IY or IX) or the input (innermost K, FY or FX: the "
            "input-triggered dataflow, each input used for consecutive taps) or, across C only, the output (its "
            "index moves with every input position and tap).")


def _stream(data: Any) -> str:
    parts = []
    for cores in sorted({c for c, _ in data.stream}):
        runs = {m: data.stream[(cores, m)] for m in ("frame", SAME, "event", "event-raw") if (cores, m) in data.stream}
        if "frame" not in runs or "event" not in runs:
            continue
        f = runs["frame"]["total_latency_cycles"]
        text = f"{cores} core(s): frame {f:,.0f} cycles"
        if SAME in runs:
            same = runs[SAME]["total_latency_cycles"]
            text += f", event with frame's unrolling {same:,.0f} ({pct(same, f)})"
        best = runs["event"]["total_latency_cycles"]
        text += f", event at its best {best:,.0f} ({pct(best, f)})"
        if "event-raw" in runs:
            r = runs["event-raw"]["total_latency_cycles"]
            text += f", event-raw {r:,.0f}"
        parts.append(text)
    return ("**Multi-core (Stream)** schedule latency: " + "; ".join(parts) + ". Frame mode's spatial unrolling is "
            "the one Stream's ZigZag generator picks; the event modes search every unrolling of K, C, IY, IX, FY, FX "
            "that fits the array and keep the fastest (steady latency, then energy), so \"each at its best\" compares "
            "dataflows, and \"frame's unrolling\" (the event mode forced onto it) compares the same spatial mapping.")
