using BenchmarkDotNet.Running;

// Benchmarks are added with the numeric core; this entry point keeps the project buildable.
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
