namespace MLNetRnn.Core.Forecasting;

/// <summary>How much each series of a panel weighs in training: how often the networks' mini-batches draw its windows.</summary>
/// <remarks>
/// Pooling every window alike lets the longest series dominate: in the accuracy protocol's nine monthly series,
/// sunspot_month holds 63% of the windows and USAccDeaths under 1%, so a shared network learns mostly sunspots.
/// Drawing series rather than windows gives every series its say; the square root sits between the two.
/// A single series is unaffected.
/// </remarks>
public enum SeriesWeighting
{
    /// <summary>Every window alike: a series weighs in proportion to its length (N_s windows).</summary>
    Windows,

    /// <summary>A series weighs in proportion to √N_s.</summary>
    SquareRoot,

    /// <summary>Every series alike, however long: a random window of a random series.</summary>
    Series,
}
