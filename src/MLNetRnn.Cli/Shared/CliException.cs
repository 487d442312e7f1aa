namespace MLNetRnn.Cli.Shared;

/// <summary>A user error: the message says what is wrong; the tool prints it and exits with code 2. Here, not beside
/// the app, because the app's commands and the study's both throw it and the study must not depend on the app.</summary>
internal sealed class CliException(string message) : Exception(message);
