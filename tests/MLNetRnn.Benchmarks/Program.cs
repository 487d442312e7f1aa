using BenchmarkDotNet.Running;
using MLNetRnn.Benchmarks;

// `throughput` prints seq/s for the reference configurations (compare with ../shared/bench/torch_rnn_bench.py);
// anything else goes to BenchmarkDotNet, e.g. `--filter *Gemm*`.
if (args.Length > 0 && args[0] == "throughput") return Throughput.Run(args[1..]);
BenchmarkSwitcher.FromAssembly(typeof(Throughput).Assembly).Run(args);
return 0;
