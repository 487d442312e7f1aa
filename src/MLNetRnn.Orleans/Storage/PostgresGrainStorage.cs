using System.Threading.Channels;
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
/// <remarks>
/// Writes are committed in groups: every write waiting while the previous group was being committed goes to the
/// server in the next one, one round trip and one commit (one flush of the write-ahead log) for all of them. Each
/// write keeps its own version check and its own answer, and none returns before its group is committed, so a
/// write is exactly as durable as alone; what the grouping saves is the server's per-commit cost, which bounded a
/// silo's writes per second (about 250 µs of server CPU per single-row commit on the 2-core development machine).
/// </remarks>
public sealed class PostgresGrainStorage : IGrainStorage, IDisposable
{
    private readonly NpgsqlDataSource _data;
    private readonly Serializer _serializer;
    private readonly string _serviceId;
    private readonly string _table;
    private readonly Lazy<Task> _created;
    private readonly Channel<PendingWrite> _writes = Channel.CreateUnbounded<PendingWrite>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;
    private readonly int _maximumGroup;
    private long _written, _commits;

    // One write waiting for its group: the command's SQL and parameters, and the answer its grain awaits.
    private sealed record PendingWrite(string Sql, NpgsqlParameter[] Parameters, TaskCompletionSource<long?> Done);

    /// <summary>Storage in <paramref name="table"/> of the database <paramref name="connectionString"/> names.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="serviceId">The cluster's service id: rows of other services in the same table are not seen.</param>
    /// <param name="serializer">Orleans' serializer (the silo's).</param>
    /// <param name="table">The table; letters, digits and '_'.</param>
    /// <param name="maximumGroup">The most writes committed together (1: each alone).</param>
    public PostgresGrainStorage(string connectionString, string serviceId, Serializer serializer, string table = "mlnetrnn_grain_state", int maximumGroup = 256)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maximumGroup, 1);
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        if (string.IsNullOrEmpty(table) || !table.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw new ArgumentException($"The table name '{table}' must be letters, digits and '_'.", nameof(table));
        _data = NpgsqlDataSource.Create(connectionString);
        _serializer = serializer;
        _serviceId = serviceId;
        _table = table;
        _created = new Lazy<Task>(CreateTableAsync);
        _maximumGroup = maximumGroup;
        _writer = Task.Run(WriteGroupsAsync);
    }

    /// <summary>Writes answered since the storage started, and the commits they took: their ratio is the mean group
    /// size, which says how much the grouping saves under the load there is.</summary>
    public (long Writes, long Commits) WriteCounts => (Interlocked.Read(ref _written), Interlocked.Read(ref _commits));

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
        var payload = new NpgsqlParameter { Value = _serializer.SerializeToArray(grainState.State), NpgsqlDbType = NpgsqlDbType.Bytea };
        var key = Key(stateName, grainId);
        var write = grainState.ETag is null
            ? new PendingWrite($"INSERT INTO {_table} (service_id, grain_id, state_name, version, payload) VALUES ($1, $2, $3, 1, $4) ON CONFLICT DO NOTHING RETURNING version",
                [.. key, payload], new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously))
            : new PendingWrite($"UPDATE {_table} SET version = version + 1, payload = $4 WHERE service_id = $1 AND grain_id = $2 AND state_name = $3 AND version = $5 RETURNING version",
                [.. key, payload, new NpgsqlParameter { Value = long.Parse(grainState.ETag, System.Globalization.CultureInfo.InvariantCulture) }],
                new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_writes.Writer.TryWrite(write)) throw new ObjectDisposedException(nameof(PostgresGrainStorage));
        if (await write.Done.Task is not long v)
            throw new InconsistentStateException($"The stored state of {grainId} ({stateName}) is not the version this activation read ({grainState.ETag ?? "none"}): another activation wrote it.",
                "unknown", grainState.ETag ?? "none");
        grainState.ETag = v.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    /// <summary>
    /// The writer: takes every write waiting (up to the group's limit) and sends them as one batch, which PostgreSQL
    /// runs as one transaction; each write's RETURNING row (or none, when its version check failed) answers it.
    /// A failed batch fails each of its writes with the error; none of them was committed.
    /// </summary>
    private async Task WriteGroupsAsync()
    {
        var group = new List<PendingWrite>(_maximumGroup);
        var reader = _writes.Reader;
        while (await reader.WaitToReadAsync())
        {
            group.Clear();
            while (group.Count < _maximumGroup && reader.TryRead(out var write)) group.Add(write);
            try
            {
                await using var batch = _data.CreateBatch();
                foreach (var write in group)
                {
                    var command = new NpgsqlBatchCommand(write.Sql);
                    command.Parameters.AddRange(write.Parameters);
                    batch.BatchCommands.Add(command);
                }
                var versions = new long?[group.Count];
                await using (var rows = await batch.ExecuteReaderAsync())
                {
                    for (int i = 0; i < group.Count; i++)
                    {
                        if (i > 0) await rows.NextResultAsync();
                        versions[i] = await rows.ReadAsync() ? rows.GetInt64(0) : null;
                    }
                }
                // Answered only once the reader is closed: the batch's transaction is committed by then.
                Interlocked.Increment(ref _commits);
                Interlocked.Add(ref _written, group.Count);
                for (int i = 0; i < group.Count; i++) group[i].Done.TrySetResult(versions[i]);
            }
            catch (Exception ex)
            {
                foreach (var write in group) write.Done.TrySetException(ex);
            }
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

    private void AddKey(NpgsqlCommand command, string stateName, GrainId grainId) => command.Parameters.AddRange(Key(stateName, grainId));

    private NpgsqlParameter[] Key(string stateName, GrainId grainId) =>
        [new NpgsqlParameter { Value = _serviceId }, new NpgsqlParameter { Value = grainId.ToString() }, new NpgsqlParameter { Value = stateName }];

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
    public void Dispose()
    {
        // Writes already queued are still committed (or failed) before the connections go.
        _writes.Writer.TryComplete();
        _writer.GetAwaiter().GetResult();
        _data.Dispose();
    }
}
