using System.Runtime.ExceptionServices;

namespace MLNetRnn.Core.Kernels;

/// <summary>Work split into parts that may run on different threads. Every part writes its own outputs:
/// no two parts write the same element, and no part reads what another writes.</summary>
internal abstract class ParallelJob
{
    /// <summary>Runs part <paramref name="part"/> of <paramref name="parts"/>.</summary>
    public abstract void Run(int part, int parts);
}

/// <summary>
/// A fixed set of worker threads, started once per process, that run the parts of one
/// <see cref="ParallelJob"/> at a time beside the calling thread (fork–join). No thread is started and
/// nothing is allocated per job.
/// </summary>
/// <remarks>
/// Determinism does not rest on the pool: the core partitions work so that every output element is
/// computed by one part in an order fixed by the shapes alone, so a job gives bit-identical results
/// however many parts it is cut into and whichever threads run them. That lets the pool fall back to
/// running all parts on the caller whenever it is busy (another caller holds it, or the caller is one
/// of its own workers, as in nested parallelism) without changing any result.
///
/// Idle workers spin briefly (the next job of a training step usually follows within microseconds),
/// then sleep on a semaphore, so an idle process costs no CPU.
/// </remarks>
internal sealed class WorkerPool
{
    private const int SpinIterations = 4_000;   // ≈ 20–40 µs of polling before a worker sleeps

    private readonly Worker[] _workers;
    private ParallelJob? _job;
    private int _parts;
    private long _state;        // epoch (high 32 bits) and the next part to claim (low 32)
    private int _completed;
    private int _busy;
    private ExceptionDispatchInfo? _failure;

    [ThreadStatic] private static bool t_isWorker;

    /// <summary>The process-wide pool: one worker per logical core beside the caller's.</summary>
    public static WorkerPool Shared { get; } = new(Environment.ProcessorCount - 1);

    /// <summary>Starts <paramref name="workers"/> background threads.</summary>
    public WorkerPool(int workers)
    {
        _workers = new Worker[Math.Max(0, workers)];
        for (int i = 0; i < _workers.Length; i++)
        {
            var w = new Worker(this, i + 1);
            _workers[i] = w;
            w.Thread.Start();
        }
    }

    /// <summary>Threads that can run parts at once: the workers and the caller.</summary>
    public int Concurrency => _workers.Length + 1;

    /// <summary>
    /// Runs parts 0..<paramref name="parts"/>−1 of <paramref name="job"/> and returns when all are done.
    /// Parts are claimed one at a time by whichever thread is free, the caller included, so a worker
    /// that the operating system has not scheduled delays nothing it has not started. When the pool is
    /// busy (another caller, or a call from inside a part) all parts run on the caller, in order.
    /// Exceptions from a part are rethrown here (the first one).
    /// </summary>
    public void Run(ParallelJob job, int parts)
    {
        if (parts <= 1 || _workers.Length == 0 || t_isWorker || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            for (int p = 0; p < parts; p++) job.Run(p, parts);
            return;
        }
        try
        {
            _job = job;
            _parts = parts;
            _failure = null;
            _completed = 0;
            int epoch = (int)(Volatile.Read(ref _state) >> 32) + 1;
            Interlocked.Exchange(ref _state, (long)epoch << 32);
            for (int i = 0; i < Math.Min(parts - 1, _workers.Length); i++) _workers[i].Wake();
            RunParts(epoch);
            var spin = new SpinWait();
            // Never Thread.Sleep(1): a scheduler tick (1–2 ms) is longer than a small model's whole training step.
            while (Volatile.Read(ref _completed) != parts) spin.SpinOnce(sleep1Threshold: -1);
            _job = null;
            _failure?.Throw();
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>Claims and runs parts of the job of <paramref name="epoch"/> until none is left.</summary>
    private void RunParts(int epoch)
    {
        while (true)
        {
            long s = Volatile.Read(ref _state);
            if ((int)(s >> 32) != epoch || (int)s >= _parts) return;
            if (Interlocked.CompareExchange(ref _state, s + 1, s) != s) continue;
            // A successful claim means the epoch's job is still the current one.
            try
            {
                _job!.Run((int)s, _parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
            }
            Interlocked.Increment(ref _completed);
        }
    }

    private int Epoch => (int)(Volatile.Read(ref _state) >> 32);

    private sealed class Worker
    {
        private readonly WorkerPool _pool;
        private readonly SemaphoreSlim _wake = new(0);
        private int _sleeping;
        public readonly Thread Thread;

        public Worker(WorkerPool pool, int index)
        {
            _pool = pool;
            Thread = new Thread(Loop) { IsBackground = true, Name = $"MLNetRnn worker {index}" };
        }

        /// <summary>Releases the worker if it went to sleep; a spinning worker sees the new epoch by itself.</summary>
        public void Wake()
        {
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        private void Loop()
        {
            t_isWorker = true;
            int seen = 0;
            while (true)
            {
                int spins = 0;
                while (_pool.Epoch == seen)
                {
                    if (++spins < SpinIterations) { Thread.SpinWait(8); continue; }
                    // Announce sleep, then look once more: a job published in between is not missed,
                    // because either we see its epoch or its Wake sees our flag.
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (_pool.Epoch != seen)
                    {
                        if (Interlocked.Exchange(ref _sleeping, 0) == 0) _wake.Wait();   // Wake took the flag: consume its release
                        break;
                    }
                    _wake.Wait();
                    spins = 0;
                }
                seen = _pool.Epoch;
                _pool.RunParts(seen);
            }
        }
    }
}
