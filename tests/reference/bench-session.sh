#!/bin/bash
# One benchmark session for docs/benchmarks.md: ours and the references back to back, REPS repetitions, then the
# fit times. Run from the repository root on a machine with nothing else running:
#   dotnet build tests/MLNetRnn.Benchmarks -c Release
#   tests/reference/bench-session.sh > session.log 2>&1
# PyTorch: see tests/reference/README.md. ONNX Runtime: tests/reference/infer/OrtTime is copied to a scratch folder
# and built there, so no build output lands in the repository.
set -u
REPS=${REPS:-5}
BENCH=${BENCH:-tests/MLNetRnn.Benchmarks/bin/Release/net10.0/MLNetRnn.Benchmarks}
SNAP=$(mktemp -d)
cp -r "$(dirname "$BENCH")"/. "$SNAP"/          # a frozen copy: a rebuild during the session changes nothing
ORT=$(mktemp -d)
cp -r tests/reference/infer/. "$ORT"/
(cd "$ORT/OrtTime" && dotnet build -c Release -v q > /dev/null) || echo "ONNX Runtime anchor did not build"
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2) $(nproc) cores"
for rep in $(seq 1 "$REPS"); do
  echo "=== rep $rep $(date -u +%H:%M:%S) load $(load)"
  "$SNAP/MLNetRnn.Benchmarks" throughput
  echo "--- torch 1 thread load $(load)"
  /usr/bin/python3 tests/reference/torch_rnn_bench.py 1
  echo "--- torch 2 threads load $(load)"
  timeout 300 /usr/bin/python3 tests/reference/torch_rnn_bench.py 2
  echo "--- inference load $(load)"
  "$SNAP/MLNetRnn.Benchmarks" inference
  echo "--- ort load $(load)"
  (cd "$ORT/OrtTime" && dotnet bin/Release/net*/OrtTime.dll ../small_lstm.onnx)
done
echo "--- fit-time load $(load)"
"$SNAP/MLNetRnn.Benchmarks" fit-time
echo "=== done $(date -u +%H:%M:%S)"
rm -rf "$SNAP" "$ORT"
