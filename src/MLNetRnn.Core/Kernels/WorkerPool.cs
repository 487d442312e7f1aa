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
    private const int SpinIterations = 20_000;   // ≈ 50–100 µs of polling before a worker sleeps

    private readonly Worker[] _workers;
    private ParallelJob? _job;
    private int _parts;
    private int _pending;
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
    /// Runs parts 0..<paramref name="parts"/>−1 of <paramref name="job"/> and returns when all are done;
    /// the caller runs part 0. Parts beyond the pool's concurrency, and all parts when the pool is busy,
    /// run on the caller in order. Exceptions from a part are rethrown here (the first one).
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
            int helpers = Math.Min(parts - 1, _workers.Length);
            _job = job;
            _parts = parts;
            _failure = null;
            Volatile.Write(ref _pending, helpers);
            for (int i = 0; i < helpers; i++) _workers[i].Assign();
            // The caller takes part 0 and every part no worker takes (parts > concurrency).
            RunPart(job, 0, parts);
            for (int p = helpers + 1; p < parts; p++) RunPart(job, p, parts);
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);
            _job = null;
            _failure?.Throw();
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void RunPart(ParallelJob job, int part, int parts)
    {
        try
        {
            job.Run(part, parts);
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref _failure, ExceptionDispatchInfo.Capture(e), null);
        }
    }

    private sealed class Worker
    {
        private readonly WorkerPool _pool;
        private readonly int _part;
        private readonly SemaphoreSlim _wake = new(0);
        private int _sleeping;
        private int _ticket;   // jobs assigned to this worker so far; the caller waits for each before the next
        public readonly Thread Thread;

        public Worker(WorkerPool pool, int part)
        {
            _pool = pool;
            _part = part;
            Thread = new Thread(Loop) { IsBackground = true, Name = $"MLNetRnn worker {part}" };
        }

        /// <summary>Hands the worker the current job and releases it if it went to sleep; a spinning
        /// worker sees the new ticket by itself.</summary>
        public void Assign()
        {
            Interlocked.Increment(ref _ticket);
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        private void Loop()
        {
            t_isWorker = true;
            int seen = 0;
            while (true)
            {
                int spins = 0;
                while (Volatile.Read(ref _ticket) == seen)
                {
                    if (++spins < SpinIterations) { Thread.SpinWait(8); continue; }
                    // Announce sleep, then look once more: a job assigned in between is not missed,
                    // because either we see its ticket or Assign sees our flag.
                    Interlocked.Exchange(ref _sleeping, 1);
                    if (Volatile.Read(ref _ticket) != seen)
                    {
                        if (Interlocked.Exchange(ref _sleeping, 0) == 0) _wake.Wait();   // Assign already took the flag: consume its release
                        break;
                    }
                    _wake.Wait();
                    spins = 0;
                }
                seen++;
                _pool.RunPart(_pool._job!, _part, _pool._parts);
                Interlocked.Decrement(ref _pool._pending);
            }
        }
    }
}
