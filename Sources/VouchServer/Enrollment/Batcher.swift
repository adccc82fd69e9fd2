import Synchronization

/// Group commit: requests that arrive while a batch is being written wait and go together in the
/// next one, so that a burst costs one transaction instead of one each. A lone request is written at
/// once, with no added wait. `flush` answers each item of a batch on its own: one item's refusal is
/// not the others'.
final class Batcher<Item: Sendable, Output: Sendable>: Sendable {
    typealias Flush = @Sendable ([Item]) async -> [Result<Output, any Error>]

    private struct Pending {
        var queue: [(item: Item, reply: CheckedContinuation<Result<Output, any Error>, Never>)] = []
        var draining = false
    }

    private let state = Mutex(Pending())
    private let maxBatch: Int

    init(maxBatch: Int = 64) {
        self.maxBatch = maxBatch
    }

    /// Submits `item` and returns its own answer once its batch is written by `flush` (every caller
    /// of one batcher passes the same function).
    func submit(_ item: Item, flush: @escaping Flush) async throws -> Output {
        let result = await withCheckedContinuation { (reply: CheckedContinuation<Result<Output, any Error>, Never>) in
            let lead = state.withLock { state in
                state.queue.append((item, reply))
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            // The first caller of a quiet period drains until the queue is empty; the others wait.
            if lead { Task { await self.drain(flush) } }
        }
        return try result.get()
    }

    private func drain(_ flush: Flush) async {
        while true {
            let batch = state.withLock { state in
                guard !state.queue.isEmpty else {
                    state.draining = false
                    return [(item: Item, reply: CheckedContinuation<Result<Output, any Error>, Never>)]()
                }
                let batch = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(batch.count)
                return batch
            }
            guard !batch.isEmpty else { return }
            let results = await flush(batch.map(\.item))
            for (index, pending) in batch.enumerated() {
                pending.reply.resume(returning: index < results.count ? results[index] : .failure(BatcherError.noAnswer))
            }
        }
    }
}

enum BatcherError: Error {
    /// `flush` returned fewer answers than items (a bug in the flush function).
    case noAnswer
}
