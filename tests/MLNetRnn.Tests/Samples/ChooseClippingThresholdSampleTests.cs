using System.Globalization;
using MLNetRnn.Samples;

namespace MLNetRnn.Tests.Samples;

/// <summary>Slow, as the other sample tests: it runs the sample as a user would.</summary>
[Trait("Category", "Slow")]
public sealed class ChooseClippingThresholdSampleTests
{
    [Fact]
    public void ClippingSampleFindsThresholdsThatBeatNoClippingAndWritesDiagnostics()
    {
        string dir = Path.Combine(Path.GetTempPath(), "mlnetrnn-clipping-" + Guid.NewGuid().ToString("N"));
        try
        {
            var output = new StringWriter(CultureInfo.InvariantCulture);
            int code = ChooseClippingThreshold.Run(output, dir);
            Assert.True(code == 0, output.ToString());
            Assert.Contains("Suggested: τ =", output.ToString());
            Assert.Contains("AutoClip p = 10", output.ToString());
            Assert.True(File.Exists(Path.Combine(dir, "steps.csv")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
