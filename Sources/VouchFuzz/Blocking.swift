import Dispatch
import Synchronization

/// Runs `operation` to its end and returns its result, for the targets whose parser is only
/// reached through an `async` verifier (libFuzzer calls a target synchronously).
///
/// It blocks the calling thread until the task ends, so it must not be called on a thread of the
/// tasks' shared pool (from async code): libFuzzer's thread, or a thread of one's own.
func runBlocking<Result: Sendable>(_ operation: @escaping @Sendable () async -> Result) -> Result {
    let box = ResultBox<Result>()
    let done = DispatchSemaphore(value: 0)
    Task {
        let result = await operation()
        box.value.withLock { $0 = result }
        done.signal()
    }
    done.wait()
    // The task stored a result before signalling.
    return box.value.withLock { $0! }
}

/// Where the task of ``runBlocking(_:)`` leaves its result.
private final class ResultBox<Result: Sendable>: Sendable {
    let value = Mutex<Result?>(nil)
}
