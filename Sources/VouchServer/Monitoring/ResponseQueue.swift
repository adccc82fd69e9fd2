import VouchCore

/// Response orders waiting for the responder: the detectors run inside request handlers and never
/// wait for the database; the `Responder` service carries the orders out, one at a time.
final class ResponseQueue: Sendable {
    let orders: AsyncStream<ResponseOrder>
    private let continuation: AsyncStream<ResponseOrder>.Continuation

    init() {
        // A burst of signals across a fleet must not grow memory without bound: past 100,000
        // orders waiting, the oldest are dropped, and each drop is logged as an error.
        (orders, continuation) = AsyncStream.makeStream(of: ResponseOrder.self, bufferingPolicy: .bufferingNewest(100_000))
    }

    /// Queues `orders`; returns those dropped to make room.
    func submit(_ orders: [ResponseOrder]) -> [ResponseOrder] {
        var dropped: [ResponseOrder] = []
        for order in orders {
            if case .dropped(let old) = continuation.yield(order) { dropped.append(old) }
        }
        return dropped
    }

    func finish() { continuation.finish() }
}
