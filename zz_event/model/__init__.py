"""What a mapped layer is, with no ZigZag or Stream in it: the ground the engine and the simulator share.

| module | its one job |
|---|---|
| `geometry` | true convolution geometry (stride, padding, dilation, groups) and the boundary filter's terms |
| `nest` | `LoopNest`: one temporal + spatial mapping on one memory hierarchy, frozen |
| `vocabulary` | names used in several places: operands, directions, engine variants, costing modes |
"""
