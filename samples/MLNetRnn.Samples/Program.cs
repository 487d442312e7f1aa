using MLNetRnn.Samples;

// dotnet run -c Release --project samples/MLNetRnn.Samples            the main sample
// dotnet run -c Release --project samples/MLNetRnn.Samples -- adding  the adding problem on the numeric core
string sample = args.Length > 0 ? args[0] : "adding";
return sample switch
{
    "adding" => AddingProblemSample.Run(Console.Out),
    "window" => WindowRegressionSample.Run(Console.Out),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: MLNetRnn.Samples [adding]");
    return 2;
}
