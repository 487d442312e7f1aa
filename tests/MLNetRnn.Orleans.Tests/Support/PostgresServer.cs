using System.Diagnostics;
using System.Reflection;
using Npgsql;

namespace MLNetRnn.Orleans.Tests.Support;

/// <summary>
/// The PostgreSQL server the storage tests write to: MLNETRNN_POSTGRES when set (as .ci/run sets it), else the one
/// scripts/postgres.sh starts (the test run starts it itself when nothing answers). When no server can be had, the
/// tests that need one are skipped and say why (<see cref="PostgresFactAttribute"/>).
/// </summary>
internal static class PostgresServer
{
    private static readonly Lazy<(string? ConnectionString, string Why)> Server = new(Find);

    /// <summary>The connection string, or null when no server could be had.</summary>
    public static string? ConnectionString => Server.Value.ConnectionString;

    /// <summary>Why there is none.</summary>
    public static string Why => Server.Value.Why;

    public static string RepositoryRoot => typeof(PostgresServer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "MLNetRnn.RepositoryRoot").Value!;

    private static (string?, string) Find()
    {
        string? given = Environment.GetEnvironmentVariable("MLNETRNN_POSTGRES");
        if (!string.IsNullOrEmpty(given))
            return Answers(given, out string error) ? (given, "") : (null, $"MLNETRNN_POSTGRES ({given}) does not answer: {error}");
        const string local = "Host=127.0.0.1;Port=55432;Username=postgres;Database=mlnetrnn";
        if (Answers(local, out _)) return (local, "");
        string script = Path.Combine(RepositoryRoot, "scripts", "postgres.sh");
        var start = Process.Start(new ProcessStartInfo("bash", [script, "start"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        string output = start.StandardOutput.ReadToEnd().Trim(), errors = start.StandardError.ReadToEnd().Trim();
        start.WaitForExit();
        if (start.ExitCode == 0 && Answers(output, out string failure)) return (output, "");
        return (null, $"no PostgreSQL server: scripts/postgres.sh start exited {start.ExitCode}: {errors}");
    }

    private static bool Answers(string connectionString, out string error)
    {
        try
        {
            using var connection = new NpgsqlConnection(connectionString);
            connection.Open();
            error = "";
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException or InvalidOperationException)
        {
            error = ex.Message;
            return false;
        }
    }

    /// <summary>The stored version (ETag) of a series grain's state, or null when nothing is stored for it.</summary>
    public static long? StoredVersion(string serviceId, string grainKey) => StoredVersion(serviceId, "series", grainKey, "series");

    /// <summary>The stored version (ETag) of grain <c>{grainType}/{grainKey}</c>'s state <paramref name="stateName"/>, or null.</summary>
    public static long? StoredVersion(string serviceId, string grainType, string grainKey, string stateName)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT version FROM mlnetrnn_grain_state WHERE service_id = $1 AND grain_id = $2 AND state_name = $3", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = serviceId });
        command.Parameters.Add(new NpgsqlParameter { Value = $"{grainType}/{grainKey}" });
        command.Parameters.Add(new NpgsqlParameter { Value = stateName });
        return command.ExecuteScalar() is long v ? v : null;
    }
}

/// <summary>A fact that needs the PostgreSQL server: skipped, with the reason, when none can be had.</summary>
internal sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresServer.ConnectionString is null) Skip = $"Needs PostgreSQL: {PostgresServer.Why}";
    }
}
