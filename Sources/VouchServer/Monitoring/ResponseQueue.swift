import Synchronization
import VouchCore

/// Response orders waiting for the responder: the detectors run inside request handlers and never
/// wait for the database; the `Responder` service carries the orders out, one at a time.
final class ResponseQueue: Sendable {
    let orders: AsyncStream<ResponseOrder>
    private let continuation: AsyncStream<ResponseOrder>.Continuation
    /// Orders queued and not yet carried out (or dropped): `vouch_responses_pending` at /metrics,
    /// which tells a simulation (or an operator) when the responder has caught up.
    private let waiting = Atomic<Int>(0)

    init() {
        // A burst of signals across a fleet must not grow memory without bound: past 100,000
        // orders waiting, the oldest are dropped, and each drop is logged as an error.
        (orders, continuation) = AsyncStream.makeStream(of: ResponseOrder.self, bufferingPolicy: .bufferingNewest(100_000))
    }

    /// Queues `orders`; returns those dropped to make room.
    func submit(_ orders: [ResponseOrder]) -> [ResponseOrder] {
        var dropped: [ResponseOrder] = []
        ordered.withLock { counts in
            for order in orders { counts[order.action.rawValue, default: 0] += 1 }
        }
        for order in orders {
            waiting.add(1, ordering: .relaxed)
            if case .dropped(let old) = continuation.yield(order) {
                waiting.subtract(1, ordering: .relaxed)
                dropped.append(old)
            }
        }
        return dropped
    }

    /// Orders submitted since start, by action (what `/metrics` shows as `vouch_responses_total`).
    private let ordered = Mutex<[String: Int]>([:])
    var orderedByAction: [String: Int] { ordered.withLock { $0 } }

    /// An order was carried out (or failed): the responder calls this after each.
    func done() { waiting.subtract(1, ordering: .relaxed) }

    /// Orders queued and not yet carried out.
    var pending: Int { waiting.load(ordering: .relaxed) }

    func finish() { continuation.finish() }
}
