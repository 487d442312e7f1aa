using BenchmarkDotNet.Running;
using MLNetRnn.Benchmarks;

// Commands (dotnet run -c Release --project tests/MLNetRnn.Benchmarks -- <command>):
//   throughput      seq/s for the reference configurations (compare with tests/reference/torch_rnn_bench.py); [--threads n] [--config name]
//   accuracy        the forecast-accuracy protocol of the protocol (docs/accuracy-protocol.md) (docs/accuracy.md)
//   window-scaling  window mode's scalings one step ahead on tests/MLNetRnn.Benchmarks/Accuracy/data (docs/design/window-regression.md)
//   window-normaliser  the two ways out of the normalised-features refusal, on the same series (docs/design/window-regression.md)
//   fixtures        writes the forecaster's model zip that the tests keep loading
//   gemm            GFLOP/s of the GEMM seam at the training shapes, 1 and 2 threads
//   profile         where a training step's time goes: GEMM, cells, the rest (1 thread, CPU time)
//   fit-time        seconds per ForecastByRnn fit at defaults: AirPassengers, 8,760 and 10,000 values
//   inference       single-forecast latency and batch-256 throughput of the small LSTM (tests/reference/infer)
//   collection      a held-out collection of ../shared/benchmarks (M1, M4 hourly), scored as the M competitions do, beside its anchors; --path DIR [--model global|local|base]
//   import-m3       writes the M3 competition's M3C.xls as a collection folder for `collection`; --xls FILE --out DIR
//   global          many series, one model: the retail panel, the protocol's monthly series together, 10,000 series (docs/design/global-models.md)
// Anything else goes to BenchmarkDotNet, e.g. `--filter *Gemm*`.
return args.Length > 0 ? args[0] switch
{
    "throughput" => Throughput.Run(args[1..]),
    "accuracy" => Accuracy.Run(args[1..]),
    "window-scaling" => WindowScalingMeasurement.Run(args[1..]),
    "window-normaliser" => WindowNormaliserMeasurement.Run(args[1..]),
    "fixtures" => Fixtures.Run(args[1..]),
    "gemm" => GemmRate.Run(args[1..]),
    "profile" => Profile.Run(args[1..]),
    "inference" => Inference.Run(args[1..]),
    "fit-time" => FitTime.Run(args[1..]),
    "global" => GlobalModels.Run(args[1..]),
    "collection" => Collection.Run(args[1..]),
    "import-m3" => ImportM3.Run(args[1..]),
    _ => RunBenchmarks(args),
} : RunBenchmarks(args);

static int RunBenchmarks(string[] args)
{
    BenchmarkSwitcher.FromAssembly(typeof(Throughput).Assembly).Run(args);
    return 0;
}
