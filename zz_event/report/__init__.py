"""The comparison report: event-driven vs frame-based costs, one core (ZigZag) and 1, 2, 4 cores (Stream), and with
data, "When event-driven wins".

| module | its one job |
|---|---|
| `build` | `build_report`: runs the jobs, writes `report.md`, figures and `report.json` with provenance |
| `jobs` | the units of work (picklable functions run in worker processes) |
| `single_core` | the four single-core costings of every MAC layer (frame-WS, frame-OS, event-raw, event) |
| `multi_core` | Stream runs on 1, 2, 4 cores and their per-layer view |
| `costs` | `Costs` of one layer under one costing, and the simulator's check of them |
| `findings` | the report's findings, stated from its own numbers |
| `markdown` | `report.md` |
| `plots` | PNG figures |
| `data_jobs` | the data chapter's units of work and its tables assembled from them |
| `data_costs` | chosen mappings costed exactly per sample: event-driven and frame-based dense / gating / skipping |
| `density` | masks at a chosen density: real data thinned or thickened, and random |
| `wins` | the chapter's summaries: bands, headline, crossover densities, density-model error |
| `wins_markdown` | the chapter's Markdown |
| `wins_plots` | the chapter's figures |
"""
