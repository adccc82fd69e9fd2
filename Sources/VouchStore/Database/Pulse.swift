import Synchronization

/// A signal many tasks wait on: each `pulse()` wakes every waiter. A waiter says which beat it has
/// seen (`beat`), so that a pulse between its look at the data and its wait is not missed.
package final class Pulse: Sendable {
    private struct State {
        var beat = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
        /// Waits begun and not yet returned.
        var pending: Set<Int> = []
        /// Pending waits released (timed out, cancelled) before they were stored.
        var released: Set<Int> = []

    }
    private let state = Mutex(State())

    package init() {}

    /// The number of pulses so far.
    package var beat: Int { state.withLock { $0.beat } }

    /// Wakes every waiter.
    package func pulse() {
        let woken = state.withLock { state in
            state.beat += 1
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in woken { waiter.resume() }
    }

    /// Returns once there has been a pulse after `seen`, `timeout` has passed, or the task is
    /// cancelled, whichever is first.
    package func wait(after seen: Int, timeout: Duration) async {
        let id = state.withLock { state -> Int? in
            guard state.beat == seen else { return nil }
            state.nextWaiter += 1
            state.pending.insert(state.nextWaiter)
            return state.nextWaiter
        }
        guard let id else { return }
        let timer = Task {
            // Cancelled (the wait ended otherwise): nothing to release.
            guard (try? await Task.sleep(for: timeout)) != nil else { return }
            self.release(id)
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    // Pulsed, timed out or cancelled before the continuation was stored.
                    if state.beat != seen || state.released.remove(id) != nil { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            self.release(id)
        }
        timer.cancel()
        state.withLock {
            $0.pending.remove(id)
            $0.released.remove(id)
        }
    }

    private func release(_ id: Int) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
            // Not stored yet: the wait finds this when it stores. (A wait that has returned is not
            // pending, and leaves nothing behind.)
            if state.pending.contains(id) { state.released.insert(id) }
            return nil
        }
        waiter?.resume()
    }
}
