"""Reading what users bring: workloads (ONNX, YAML), mappings and accelerators, checked before ZigZag runs.

| module | its one job |
|---|---|
| `workloads` | `load_workload`: any workload into input-centric ZigZag layers plus their true geometry |
| `onnx_workloads` | ONNX Conv, Gemm, MatMul, pooling and Add nodes into ZigZag layers |
| `yaml_workloads` | output- and input-centric ZigZag YAML layers into input-centric ones |
| `layers` | the shared layer forms, `PreparedWorkload`, YAML and ZigZag-validator helpers |
| `mappings` | `load_mapping`: a mapping file adapted to the converted layers (OY/OX -> IY/IX) |
| `hardware` | `check_accelerator`: an accelerator file checked with ZigZag's own validator |
| `activations` | a network input batch read and checked; each Conv/Gemm/MatMul layer's non-zero inputs per sample |
"""
