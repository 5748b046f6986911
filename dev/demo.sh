#!/usr/bin/env bash
# Creates the Python 3.12 environment if needed, then runs the main demo: the seed's toy layer and
# LeNet-5, event-driven vs ZigZag, on the toy 8-MAC accelerator. Results go to out/demo/.
source "$(dirname "$0")/env.sh"
OUT="${1:-out/demo}"
echo "== toy 5x5 layer, fixed ordering FY, FX, IX, IY =="
zz-event run --workload inputs/toy/workload.yaml --accelerator inputs/toy/hardware.yaml \
  --mapping inputs/toy/mapping.yaml --opt energy --out "$OUT/toy_fixed"
echo "== toy 5x5 layer, ordering searched by LOMA =="
zz-event run --workload inputs/toy/workload.yaml --accelerator inputs/toy/hardware.yaml \
  --mapping inputs/toy/mapping_free.yaml --opt energy --out "$OUT/toy_search"
echo "== LeNet-5 (32x32) =="
zz-event run --workload inputs/lenet5/lenet5.onnx --accelerator inputs/toy/hardware.yaml \
  --mapping inputs/toy/mapping_lenet5.yaml --opt energy --out "$OUT/lenet5"
echo "== LeNet-5 report: frame-based WS/OS vs event-raw vs event-driven, 1 core (ZigZag) and 1/2/4 cores (Stream) =="
zz-event report --out "$OUT"
echo "report: $OUT/report.md"
