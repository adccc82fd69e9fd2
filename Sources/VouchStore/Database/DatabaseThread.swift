import Foundation
import Synchronization

/// A thread of its own for one SQLite connection, as a task executor.
///
/// SQLite statements are synchronous: run on Swift's cooperative pool (one thread per core), a slow
/// statement would hold one of its threads and stall every request queued behind it. The database
/// runs each read, write or transaction body under `withTaskExecutorPreference(thread)` instead, so
/// the statements, and the synchronous work between them, run here; the caller's thread is free
/// meanwhile. A body hops here once and back once, however many statements it runs.
package final class DatabaseThread: TaskExecutor, Sendable {
    private struct Queue: ~Copyable {
        var jobs: [UnownedJob] = []
        var stopping = false
        /// The thread has ended: jobs go to the global executor (and fail there on a closed
        /// connection) instead of waiting forever.
        var ended = false
    }

    private let queue = Mutex(Queue())
    /// Signalled when jobs arrive or the thread is told to stop.
    private let wake = DispatchSemaphore(value: 0)
    /// Whether the thread sleeps on `wake` (only then does `enqueue` signal it).
    private let sleeping = Atomic<Bool>(false)
    package let name: String

    package init(name: String) {
        self.name = name
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let ended = queue.withLock { queue -> Bool in
            if queue.ended { return true }
            queue.jobs.append(job)
            return false
        }
        if ended {
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
            return
        }
        if sleeping.load(ordering: .acquiring) { wake.signal() }
    }

    /// Lets the thread finish the jobs it has and end; later jobs run on the global executor.
    package func stop() {
        queue.withLock { $0.stopping = true }
        wake.signal()
    }

    private func run() {
        var batch: [UnownedJob] = []
        while true {
            let stop = queue.withLock { queue -> Bool in
                swap(&batch, &queue.jobs)
                if queue.stopping && batch.isEmpty { queue.ended = true }
                return queue.ended
            }
            if stop { return }
            if batch.isEmpty {
                // Announce the sleep, then look once more: a job enqueued in between either saw the
                // flag (and signals) or is found here.
                sleeping.store(true, ordering: .sequentiallyConsistent)
                let empty = queue.withLock { $0.jobs.isEmpty && !$0.stopping }
                if empty { wake.wait() }
                sleeping.store(false, ordering: .sequentiallyConsistent)
                continue
            }
            for job in batch {
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
