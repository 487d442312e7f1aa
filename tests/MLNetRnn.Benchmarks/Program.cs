using BenchmarkDotNet.Running;
using MLNetRnn.Benchmarks;

// `window-scaling` compares window mode's scalings one step ahead on ../shared/data (docs/design/window-regression.md).
if (args.Length > 0 && args[0] == "window-scaling") return WindowScalingMeasurement.Run(args[1..]);

// `throughput` prints seq/s for the reference configurations (compare with ../shared/bench/torch_rnn_bench.py);
// `accuracy` runs the forecast-accuracy protocol of ../shared/accuracy; `fixtures` writes model zips the tests keep loading; anything else goes to BenchmarkDotNet, e.g. `--filter *Gemm*`.
if (args.Length > 0 && args[0] == "throughput") return Throughput.Run(args[1..]);
if (args.Length > 0 && args[0] == "accuracy") return Accuracy.Run(args[1..]);
if (args.Length > 0 && args[0] == "fixtures") return Fixtures.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Throughput).Assembly).Run(args);
return 0;
