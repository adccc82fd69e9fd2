import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import VouchAPI

/// One keep-alive HTTP/1.1 connection to the server, optionally from a chosen local address (a
/// device that moves shows up from a new source address). Requests on it go one at a time.
final class SimulationConnection: Sendable {
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

    /// Sends a request and waits for its answer.
    func send(_ request: VouchRequest) async throws -> VouchResponse {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: request.path)
        head.headers.add(name: "Host", value: host)
        head.headers.add(name: "Content-Length", value: String(request.body?.count ?? 0))
        for (name, value) in request.headers { head.headers.add(name: name, value: value) }
        let body = request.body
        let promise = channel.eventLoop.makePromise(of: VouchResponse.self)
        let collector = collector
        let channel = channel
        let sending = head
        channel.eventLoop.execute {
            collector.value.send(sending, body: body, answer: promise)
        }
        // A server that takes a request and never answers must not hold the simulation forever:
        // the connection is closed, which fails the request.
        let timeout = channel.eventLoop.scheduleTask(in: Self.timeout) { channel.close(promise: nil) }
        defer { timeout.cancel() }
        return try await promise.futureResult.get()
    }

    func close() async {
        try? await channel.close()
    }
}

/// A machine's way to the server, from one local address: a keep-alive connection, opened again
/// when it was found closed before a request went out. A request that may have reached the server
/// is never sent twice (a telemetry batch sent twice would be a replay).
actor SimulationLink: VouchTransport {
    nonisolated let server: String
    private let host: String
    private let port: Int
    private let local: String?
    private var connection: SimulationConnection?

    init(host: String, port: Int, from local: String? = nil) {
        self.host = host
        self.port = port
        self.local = local
        server = port == 80 ? "http://\(host)" : "http://\(host):\(port)"
    }

    func send(_ request: VouchRequest) async throws -> VouchResponse {
        do {
            return try await open().send(request)
        } catch is AnswerCollector.NotSent {
            connection = nil
            return try await open().send(request)
        } catch {
            connection = nil
            throw VouchClientError.unreachable("\(request.method) \(request.path.prefix(100)): \(error)")
        }
    }

    private func open() async throws -> SimulationConnection {
        if let connection { return connection }
        let opened = try await SimulationConnection.open(host: host, port: port, from: local)
        connection = opened
        return opened
    }

    func close() async {
        await connection?.close()
        connection = nil
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
    private var waiting: [EventLoopPromise<VouchResponse>] = []
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func send(_ head: HTTPRequestHead, body: [UInt8]?, answer: EventLoopPromise<VouchResponse>) {
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
            var headers: [String: String] = [:]
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            answer.succeed(VouchResponse(status: Int(head.status.code), headers: headers, body: body))
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
