using Npgsql;
using NpgsqlTypes;
using Orleans.Serialization;
using Orleans.Storage;

namespace MLNetRnn.Orleans.Storage;

/// <summary>
/// Orleans grain storage in PostgreSQL: one row per grain and state name, the state in Orleans' binary format, a
/// version number as the ETag (optimistic concurrency: a write from a stale activation is refused). A write returns
/// when PostgreSQL has committed it, which with the server's default <c>synchronous_commit = on</c> means flushed to
/// its write-ahead log: an acknowledged observation survives a crash of the silo, and of the database server.
/// The table is created on first use.
/// </summary>
public sealed class PostgresGrainStorage : IGrainStorage, IDisposable
{
    private readonly NpgsqlDataSource _data;
    private readonly Serializer _serializer;
    private readonly string _serviceId;
    private readonly string _table;
    private readonly Lazy<Task> _created;

    /// <summary>Storage in <paramref name="table"/> of the database <paramref name="connectionString"/> names.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="serviceId">The cluster's service id: rows of other services in the same table are not seen.</param>
    /// <param name="serializer">Orleans' serializer (the silo's).</param>
    /// <param name="table">The table; letters, digits and '_'.</param>
    public PostgresGrainStorage(string connectionString, string serviceId, Serializer serializer, string table = "mlnetrnn_grain_state")
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        if (string.IsNullOrEmpty(table) || !table.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw new ArgumentException($"The table name '{table}' must be letters, digits and '_'.", nameof(table));
        _data = NpgsqlDataSource.Create(connectionString);
        _serializer = serializer;
        _serviceId = serviceId;
        _table = table;
        _created = new Lazy<Task>(CreateTableAsync);
    }

    /// <inheritdoc/>
    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await Ready();
        await using var command = _data.CreateCommand($"SELECT version, payload FROM {_table} WHERE service_id = $1 AND grain_id = $2 AND state_name = $3");
        AddKey(command, stateName, grainId);
        await using var reader = await command.ExecuteReaderAsync();
        if (await reader.ReadAsync())
        {
            grainState.ETag = reader.GetInt64(0).ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.State = _serializer.Deserialize<T>((byte[])reader.GetValue(1));
            grainState.RecordExists = true;
        }
        else
        {
            grainState.ETag = null;
            grainState.State = Activator.CreateInstance<T>();
            grainState.RecordExists = false;
        }
    }

    /// <inheritdoc/>
    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await Ready();
        byte[] payload = _serializer.SerializeToArray(grainState.State);
        NpgsqlCommand command;
        if (grainState.ETag is null)
        {
            command = _data.CreateCommand($"INSERT INTO {_table} (service_id, grain_id, state_name, version, payload) VALUES ($1, $2, $3, 1, $4) ON CONFLICT DO NOTHING RETURNING version");
            AddKey(command, stateName, grainId);
            command.Parameters.Add(new NpgsqlParameter { Value = payload, NpgsqlDbType = NpgsqlDbType.Bytea });
        }
        else
        {
            command = _data.CreateCommand($"UPDATE {_table} SET version = version + 1, payload = $4 WHERE service_id = $1 AND grain_id = $2 AND state_name = $3 AND version = $5 RETURNING version");
            AddKey(command, stateName, grainId);
            command.Parameters.Add(new NpgsqlParameter { Value = payload, NpgsqlDbType = NpgsqlDbType.Bytea });
            command.Parameters.Add(new NpgsqlParameter { Value = long.Parse(grainState.ETag, System.Globalization.CultureInfo.InvariantCulture) });
        }
        await using (command)
        {
            object? version = await command.ExecuteScalarAsync();
            if (version is not long v)
                throw new InconsistentStateException($"The stored state of {grainId} ({stateName}) is not the version this activation read ({grainState.ETag ?? "none"}): another activation wrote it.",
                    "unknown", grainState.ETag ?? "none");
            grainState.ETag = v.ToString(System.Globalization.CultureInfo.InvariantCulture);
            grainState.RecordExists = true;
        }
    }

    /// <inheritdoc/>
    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await Ready();
        await using var command = _data.CreateCommand($"DELETE FROM {_table} WHERE service_id = $1 AND grain_id = $2 AND state_name = $3");
        AddKey(command, stateName, grainId);
        await command.ExecuteNonQueryAsync();
        grainState.ETag = null;
        grainState.State = Activator.CreateInstance<T>();
        grainState.RecordExists = false;
    }

    private void AddKey(NpgsqlCommand command, string stateName, GrainId grainId)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = _serviceId });
        command.Parameters.Add(new NpgsqlParameter { Value = grainId.ToString() });
        command.Parameters.Add(new NpgsqlParameter { Value = stateName });
    }

    private Task Ready() => _created.Value;

    private async Task CreateTableAsync()
    {
        await using var connection = await _data.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        // Several silos start at once: one creates the table, the others wait on the lock and find it there.
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7215093)", connection, transaction))
            await lockCommand.ExecuteNonQueryAsync();
        await using (var create = new NpgsqlCommand(
            $"CREATE TABLE IF NOT EXISTS {_table} (service_id text NOT NULL, grain_id text NOT NULL, state_name text NOT NULL, " +
            "version bigint NOT NULL, payload bytea NOT NULL, PRIMARY KEY (service_id, grain_id, state_name))", connection, transaction))
            await create.ExecuteNonQueryAsync();
        await transaction.CommitAsync();
    }

    /// <inheritdoc/>
    public void Dispose() => _data.Dispose();
}
