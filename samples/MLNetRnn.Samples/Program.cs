// Samples are added with the forecasting transformers; this entry point keeps the project buildable.
Console.WriteLine("MLNetRnn samples: none yet.");
