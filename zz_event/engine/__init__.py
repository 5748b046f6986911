"""Exact counts of one mapped layer: a `LoopNest` and two switches in, transfers, words, energy and latency
out. Imports only `zz_event.model`, numpy and (for data masks, compiled) numba: no ZigZag, no Stream.

A third, optional input is a data mask (events from data): which input elements of one sample are
non-zero. A zero input triggers no event: none of its MACs executes, it is never moved, and no weight or
output is fetched or touched on its behalf; every other rule then follows the executed MACs. An output
that no executed MAC reaches is never written (its memory keeps the bias) and is counted
(`EngineResult.outputs_without_contribution`). All-true masks give the dense-data counts, all-false
masks nothing. Masks are counted on explicit tiles (`executed`, `walk`, `explicit`), not per axis.

| module | its one job |
|---|---|
| `evaluate` | the front door: `evaluate(nest, options) -> EngineResult`; `clear_caches()` |
| `result` | `EngineOptions` (the switches), `LevelCounts`, `EngineResult` |
| `tiles` | the residency rules: the tile sequence each level holds and what each change moves |
| `axes` | per-axis views of a tile: which elements one dimension (or coupled pair) needs |
| `axis_configs` | per-configuration tables of one coupled axis for the analytic backend |
| `analytic` | events computed per axis, without walking the tile sequence (the fast backend) |
| `enumerated` | events from an explicit, compressed tile sequence (the reference backend) |
| `overshoot` | loops whose product overshoots a dimension: blocks of unequal size |
| `grouping` | array helpers: distinct rows, grouped pairs, slot tables |
| `events` | `SequenceEvents`: what one tile sequence moves, the interface between counting and transfers |
| `touches` | first and last touch of every output element per instance (output readiness) |
| `touch_kernel` | the compiled pass behind `touches`: first and last touches per instance row and tile |
| `transfers` | element transfers per operand, level and direction under the two switches |
| `words` | transfers to word accesses and energy with ZigZag's port rules |
| `windows` | ZigZag's memory-updating windows of a nest: per link its period, window count, allowed cycles |
| `latency` | ZigZag's latency model on the exact transfers: on-loading, compute, stall, off-loading, drain |
| `energy_floor` | lower bounds on a mapping's energy (order-free; from its innermost loops): skip what cannot win |
| `floor_closed_forms` | the floors' step tiles and distinct elements as products of per-axis counts, where they are |
| `chunked` | event lists tallied as distinct rows with summed weights (the explicit walk's parts) |
| `union_run` | runs the compiled union passes for one boundary of `siblings`: their arrays in, events out |
| `union_kernel` | the compiled pass behind `siblings`: per parent and transition, its children's unions |
| `odometer` | the union passes' tile index as digits: keys by additions, repeating iterations jumped |
| `tile_copies` | loops inside a child tile over a dimension the operand depends on, factored out of its union walk |
| `register_union` | that pass where every child tile is one element (processing elements' registers) |
| `register_jumps` | where that pass may leave transitions out: last uses per axis, translated iterations |
| `budget` | the memory budget the paths whose arrays grow with the layer check before allocating |
| `executed` | events from data: executed iterations under a data mask (memoised across orderings), per level walked |
| `walk` | the compiled pass over one level's executed tiles: per-sample counts, words, latency sums of its transfers |
| `explicit` | transfers of a masked layer from those walks (residency, per-transition unions, readiness) |
| `samples` | one mapping on many samples: the mean result a search ranks on, per-sample statistics |
| `baselines` | frame-based `dense`, `gating` and `skipping` on the same data, for output-centric mappings |
"""
