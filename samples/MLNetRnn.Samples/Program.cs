using MLNetRnn.Samples;

// dotnet run -c Release --project samples/MLNetRnn.Samples            the main sample (AirPassengers)
// dotnet run -c Release --project samples/MLNetRnn.Samples -- window  window mode: lags, featurizers, CrossValidate
// dotnet run -c Release --project samples/MLNetRnn.Samples -- adding  the adding problem on the numeric core
// dotnet run -c Release --project samples/MLNetRnn.Samples -- clipping  a clipping threshold from the data (AutoClip, suggestion)
// dotnet run -c Release --project samples/MLNetRnn.Samples -- many    many series, one model: a retail panel with promotions, the protocol's monthly series
// dotnet run -c Release --project samples/MLNetRnn.Samples -- core    forecasting with MLNetRnn.Core alone, no ML.NET
string sample = args.Length > 0 ? args[0] : "airpassengers";
return sample switch
{
    "airpassengers" => ForecastAirPassengers.Run(Console.Out),
    "adding" => AddingProblemSample.Run(Console.Out),
    "window" => WindowRegressionSample.Run(Console.Out),
    "clipping" => ChooseClippingThreshold.Run(Console.Out),
    "many" => ForecastManySeries.Run(Console.Out),
    "core" => ForecastWithCore.Run(Console.Out),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: MLNetRnn.Samples [airpassengers|window|adding|clipping|many|core]");
    return 2;
}
