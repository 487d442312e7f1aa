namespace MLNetRnn.Cli.Study;

internal static class AddingReport
{
    public static int Write(string input, string output, TextWriter log) => throw new NotImplementedException();
}
