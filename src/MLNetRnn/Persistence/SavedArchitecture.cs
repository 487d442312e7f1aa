using MLNetRnn.Core.Network;

namespace MLNetRnn.Persistence;

/// <summary>What the ML.NET model formats can hold of a network's architecture.</summary>
internal static class SavedArchitecture
{
    /// <summary>Refuses, naming the option, a network whose dilations or residual connections the ML.NET model formats do
    /// not record: a reader would rebuild it without them and forecast with another model. The network's weights and
    /// whole spec round-trip through SafeTensors (RecurrentNetwork's SafeTensors.Save and Load).</summary>
    /// <exception cref="NotSupportedException">Dilations or ResidualConnections are set.</exception>
    public static void Check(RecurrentNetworkSpec spec)
    {
        if (spec.Dilations.Count > 0 || (spec.ResidualConnections && spec.Layers > 1))
            throw new NotSupportedException(
                $"This model's networks use {(spec.Dilations.Count > 0 ? $"Dilations = [{string.Join(", ", spec.Dilations)}]" : "ResidualConnections = true")}, " +
                "which this version of the ML.NET model format does not record yet, so the model cannot be saved to an ML.NET zip. " +
                "Save the networks with SafeTensors.Save (which keeps the whole spec), or train without Dilations and ResidualConnections to save the model.");
    }
}
