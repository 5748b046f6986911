"""zz-event inside Stream: a core-cost backend through Stream's plugin seam, and a runner for the three modes.

| module | its one job |
|---|---|
| `backend` | the `stream.core_cost_backends` entry point: cheap `claims()`, lazy `make()`, the mode switch |
| `costing` | one Stream node on one core costed input-centric by ZigZag, corrected in mode `event` |
| `node_geometry` | a Stream node's true geometry (stride, dilation, padding Stream's layer drops) |
| `runner` | `run_stream`: Stream's own front door in mode frame, event-raw or event; `stream_summary.json` |
| `run_inputs` | what a run takes beyond Stream's inputs: an earlier run's unrollings, the data's masks |
| `settings` | those, as the costing of one Stream run reads them |
| `spatial` | the event mode's candidate spatial unrollings and a lower bound on their latency |
| `node_data` | the data masks of the tiles a split node's cores run |
"""
