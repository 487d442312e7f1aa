using System.ComponentModel;
namespace MLNetRnn.Core.Forecasting;

// F = inputs per step (one row), C = covariates, Zd = static features that are numbers, Zc = static categories.

/// <summary>What a column block of a network input row holds.</summary>
/// <remarks>Public for the ML.NET layer (MLNetRnn), not part of the stable API: it may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public enum NetworkInputPart
{
    /// <summary>The step's value, seasonally adjusted and scaled by the window's level (a decoder step: the base's forecast).</summary>
    Value,

    /// <summary>The base's one-step error of that value, in the same units (0 on a decoder step).</summary>
    BaseError,

    /// <summary>The C covariates, standardised (a decoder step: the known-future ones, the others 0).</summary>
    Covariates,

    /// <summary>sin and cos of the step's position in the season.</summary>
    Season,

    /// <summary>The series' Zd static features that are numbers.</summary>
    StaticFeatures,

    /// <summary>The series' log scale, standardised over the series trained on.</summary>
    Scale,

    /// <summary>0 on a window step, 1 on a decoder step.</summary>
    DecoderFlag,

    /// <summary>Category indices, last because the networks embed their last inputs: the Zc static categories, then
    /// the series' own index.</summary>
    Categories,
}

/// <summary>One block of columns of a network input row: columns [Offset, Offset + Width).</summary>
/// <param name="Part">What the columns hold.</param>
/// <param name="Offset">The first column.</param>
/// <param name="Width">The number of columns.</param>
/// <remarks>Public for the ML.NET layer (MLNetRnn), not part of the stable API: it may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public readonly record struct NetworkInputSegment(NetworkInputPart Part, int Offset, int Width);

/// <summary>
/// The columns of one row of what the networks read (one row per window step and per decoder step), stated once from
/// the settings. <see cref="NetworkInputWriter"/> writes rows by these offsets and the ONNX export builds its input
/// from <see cref="Segments"/> in the same order, so the two cannot disagree on where a feature sits.
/// </summary>
/// <remarks>Public for the ML.NET layer (MLNetRnn), not part of the stable API: it may change in any release.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class NetworkInputLayout
{
    internal NetworkInputLayout(ForecasterSettings s)
    {
        var segments = new List<NetworkInputSegment>();
        int width = 0;
        int Add(NetworkInputPart part, int count)
        {
            if (count == 0) return -1;
            segments.Add(new NetworkInputSegment(part, width, count));
            width += count;
            return width - count;
        }
        Value = Add(NetworkInputPart.Value, 1);
        BaseError = Add(NetworkInputPart.BaseError, s.BaseErrorFeature ? 1 : 0);
        CovariateCount = s.CovariateCount;
        Covariates = Add(NetworkInputPart.Covariates, CovariateCount);
        Season = Add(NetworkInputPart.Season, s.UsesSeasonalFeatures ? 2 : 0);
        StaticFeatureCount = s.StaticFeatureCount - s.StaticCategories.Count;
        StaticFeatures = Add(NetworkInputPart.StaticFeatures, StaticFeatureCount);
        Scale = Add(NetworkInputPart.Scale, s.ScaleFeature ? 1 : 0);
        DecoderFlag = Add(NetworkInputPart.DecoderFlag, s.Decoder ? 1 : 0);
        CategoryCount = s.StaticCategories.Count + (s.SeriesCategories > 0 ? 1 : 0);
        Categories = Add(NetworkInputPart.Categories, CategoryCount);
        Width = width;
        Segments = segments;
        if (Width != s.InputSize)
            throw new InvalidOperationException($"The input layout has {Width} columns; the settings' networks read {s.InputSize}.");
    }

    // Column offsets; −1 where the part is absent.
    internal int Value { get; }                 // always 0
    /// <summary>The column of the base's one-step error; −1 without a base.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int BaseError { get; }
    internal int Covariates { get; }            // (C)
    /// <summary>C: the covariate columns.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int CovariateCount { get; }
    /// <summary>The column of the seasonal sine (the cosine follows); −1 without seasonal features.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public int Season { get; }
    internal int StaticFeatures { get; }        // (Zd)
    internal int StaticFeatureCount { get; }    // Zd
    internal int Scale { get; }
    internal int DecoderFlag { get; }
    internal int Categories { get; }            // (Zc, then 1 with the series' own index)
    internal int CategoryCount { get; }
    internal int Width { get; }                 // F

    /// <summary>The parts present, in column order.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public IReadOnlyList<NetworkInputSegment> Segments { get; }
}
