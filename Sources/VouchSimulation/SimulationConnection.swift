import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import VouchKit

/// One keep-alive HTTP/1.1 connection to the server, optionally from a chosen local address (a
/// device that moves shows up from a new source address). Requests on it go one at a time.
final class SimulationConnection: Sendable {
    /// A server's answer.
    struct Answer: Sendable {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]

        var json: JSONValue { (try? JSONValue(parsing: Data(body))) ?? .null }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// How long an answer may take.
    static let timeout = TimeAmount.seconds(60)

    private let channel: any Channel
    private let collector: NIOLoopBound<AnswerCollector>
    private let host: String

    private init(channel: any Channel, collector: NIOLoopBound<AnswerCollector>, host: String) {
        self.channel = channel
        self.collector = collector
        self.host = host
    }

    static func open(host: String, port: Int, from local: String?) async throws -> SimulationConnection {
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(10))
        if let local { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: local, port: 0)) }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        let collector = try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            let collector = AnswerCollector()
            try channel.pipeline.syncOperations.addHandler(collector)
            return NIOLoopBound(collector, eventLoop: channel.eventLoop)
        }.get()
        return SimulationConnection(channel: channel, collector: collector, host: port == 80 ? host : "\(host):\(port)")
    }

    /// Sends a request and waits for its answer. With `dpop`, the request carries a DPoP proof
    /// signed by that key (RFC 9449) at `now` (the simulation's clock), and `bearer` (a device
    /// access token) goes as `DPoP <token>`.
    func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json", bearer: String? = nil,
        dpop: SigningKey? = nil, now: Date = Date()
    ) async throws -> Answer {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "Content-Length", value: String(body?.count ?? 0))
        head.headers.add(name: "Prefer", value: "return=minimal")
        if body != nil { head.headers.add(name: "Content-Type", value: contentType) }
        if let dpop {
            head.headers.add(name: DPoPProof.header, value: try DPoPProof.sign(method: method.rawValue, url: "http://\(host)\(path)", accessToken: bearer, key: dpop, now: now))
        }
        if let bearer { head.headers.add(name: "Authorization", value: "\(dpop == nil ? "Bearer" : "DPoP") \(bearer)") }
        let promise = channel.eventLoop.makePromise(of: Answer.self)
        let collector = collector
        let request = head
        let channel = channel
        channel.eventLoop.execute {
            collector.value.send(request, body: body, answer: promise)
        }
        // A server that takes a request and never answers must not hold the simulation forever:
        // the connection is closed, which fails the request.
        let timeout = channel.eventLoop.scheduleTask(in: Self.timeout) { channel.close(promise: nil) }
        defer { timeout.cancel() }
        return try await promise.futureResult.get()
    }

    /// Sends a JSON body.
    func send(_ method: HTTPMethod, _ path: String, json: JSONValue, bearer: String? = nil, dpop: SigningKey? = nil, now: Date = Date()) async throws -> Answer {
        try await send(method, path, body: Array(try JSONEncoder().encode(json)), bearer: bearer, dpop: dpop, now: now)
    }

    func close() async {
        try? await channel.close()
    }
}

/// The end of the pipeline: writes requests and hands each answer to the request waiting for it.
final class AnswerCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    struct Closed: Error, CustomStringConvertible {
        var description: String { "the server closed the connection, or did not answer within \(SimulationConnection.timeout.nanoseconds / 1_000_000_000) s" }
    }

    /// The connection was closed before the request was written: sending it again is safe.
    struct NotSent: Error, CustomStringConvertible {
        var description: String { "the connection was closed before the request was sent" }
    }

    private var context: ChannelHandlerContext?
    private var waiting: [EventLoopPromise<SimulationConnection.Answer>] = []
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func send(_ head: HTTPRequestHead, body: [UInt8]?, answer: EventLoopPromise<SimulationConnection.Answer>) {
        guard let context, context.channel.isActive else { return answer.fail(NotSent()) }
        waiting.append(answer)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body, !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(let buffer):
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            guard let head, !waiting.isEmpty else { return }
            let answer = waiting.removeFirst()
            answer.succeed(SimulationConnection.Answer(status: Int(head.status.code), headers: head.headers, body: body))
            self.head = nil
            body = []
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(Closed())
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        let pending = waiting
        waiting = []
        for answer in pending { answer.fail(error) }
    }
}
