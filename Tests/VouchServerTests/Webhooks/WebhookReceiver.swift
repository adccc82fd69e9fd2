import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing
import VouchKit

/// A webhook receiver on a real socket (Hummingbird on 127.0.0.1, port 0): records every request
/// with when it came, and answers as `respond` says (given how many requests came before it to
/// this path).
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var path: String
        var headers: HTTPFields
        var body: [UInt8]
        var at: ContinuousClock.Instant

        var id: String? { headers[HTTPField.Name("webhook-id")!] }
        var timestamp: String? { headers[HTTPField.Name("webhook-timestamp")!] }
        var signature: String? { headers[HTTPField.Name("webhook-signature")!] }
        var json: JSONValue { (try? JSONValue(parsing: Data(body))) ?? .null }
    }

    /// An answer: status, headers, and how long to wait before giving it.
    struct Answer: Sendable {
        var status: HTTPResponse.Status = .noContent
        var headers: HTTPFields = [:]
        var delay: Duration = .zero
        var body: String = ""
    }

    private let received = Mutex<[Received]>([])
    let port: Int

    var requests: [Received] { received.withLock { $0 } }
    func requests(to path: String) -> [Received] { requests.filter { $0.path == path } }

    private init(port: Int) {
        self.port = port
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Runs `body` with a receiver answering as `respond` says; stops it afterwards.
    static func with<T>(
        respond: @escaping @Sendable (_ path: String, _ earlier: Int) -> Answer = { _, _ in Answer() },
        _ body: (WebhookReceiver) async throws -> T
    ) async throws -> T {
        let ready = AsyncStream<Int>.makeStream()
        let records = RecordBox()
        let router = Router()
        router.post("**") { request, _ -> Response in
            let collected = try await request.body.collect(upTo: 1 << 20)
            let path = request.uri.path
            let earlier = records.add(Received(path: path, headers: request.headers, body: Array(collected.readableBytesView), at: .now), path: path)
            let answer = respond(path, earlier)
            if answer.delay > .zero { try await Task.sleep(for: answer.delay) }
            return Response(status: answer.status, headers: answer.headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in ready.continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let running = Task { try await application.runService() }
        var iterator = ready.stream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            running.cancel()
            throw ReceiverDidNotStart()
        }
        let receiver = WebhookReceiver(port: port)
        records.sink = receiver
        defer { running.cancel() }
        return try await body(receiver)
    }

    struct ReceiverDidNotStart: Error {}

    fileprivate func append(_ request: Received) -> Int {
        received.withLock { list in
            let earlier = list.filter { $0.path == request.path }.count
            list.append(request)
            return earlier
        }
    }

    /// Waits (30 s at most) until `done` holds for the requests received.
    func wait(_ what: String, until done: ([Received]) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if done(requests) { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("the receiver did not get \(what) within 30 s; it got \(requests.map { "\($0.path) \($0.id ?? "-")" })")
        throw ReceiverTimedOut()
    }

    struct ReceiverTimedOut: Error {}
}

/// Where the router's handler records requests before the receiver exists (its port comes first).
private final class RecordBox: Sendable {
    private let state = Mutex<WebhookReceiver?>(nil)
    var sink: WebhookReceiver? {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    func add(_ request: WebhookReceiver.Received, path: String) -> Int {
        sink?.append(request) ?? 0
    }
}
