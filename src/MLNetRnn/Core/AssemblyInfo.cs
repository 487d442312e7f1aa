// The numeric core (MLNetRnn.Core.*) knows nothing of ML.NET; MLNetRnn.MLNet.* wraps it.
