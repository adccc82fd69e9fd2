import Foundation
import NIOCore
import NIOPosix
import Synchronization
import VouchAPI

/// A lean HTTP/1.1 load client: keep-alive connections that each keep `window` requests in
/// flight (pipelining), written as prepared bytes and answered in order. It spends a small part
/// of a core per ten thousand requests, so that on a machine shared with the server the figure
/// is the server's. Every answer's status is checked, and its body for the expected bytes.
final class PipelinedLoad: Sendable {
    /// One prepared request and a byte string its answer must contain.
    struct Request: Sendable {
        let bytes: ByteBuffer
        let expected: [UInt8]

        init(bytes: ByteBuffer, expected: [UInt8]) {
            self.bytes = bytes
            self.expected = expected
        }

        /// `request` as a `VouchClient` prepared it (`VouchClient.request`), written as HTTP/1.1.
        init(_ request: VouchRequest, expected: [UInt8]) {
            var head = "\(request.method) \(request.path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            for (name, value) in request.headers { head += "\(name): \(value)\r\n" }
            if let body = request.body { head += "Content-Length: \(body.count)\r\n" }
            var bytes = ByteBuffer(string: head + "\r\n")
            if let body = request.body { bytes.writeBytes(body) }
            self.init(bytes: bytes, expected: expected)
        }
    }

    private let group: MultiThreadedEventLoopGroup
    private let connections: [(channel: any Channel, handler: NIOLoopBound<PipelineHandler>)]

    init(port: Int, connections count: Int) async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var connections: [(any Channel, NIOLoopBound<PipelineHandler>)] = []
        for _ in 0..<count {
            let channel = try await ClientBootstrap(group: group)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: "127.0.0.1", port: port).get()
            let handler = try await channel.eventLoop.submit {
                let handler = PipelineHandler()
                try channel.pipeline.syncOperations.addHandler(handler)
                return NIOLoopBound(handler, eventLoop: channel.eventLoop)
            }.get()
            connections.append((channel, handler))
        }
        self.connections = connections
    }

    /// Sends `count` requests, cycling through `requests`, spread over the connections; returns
    /// when every answer has arrived and checked out.
    func run(_ requests: [Request], count: Int, window: Int) async throws {
        let perConnection = count / connections.count
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for (slot, connection) in connections.enumerated() {
                let offset = slot * perConnection
                tasks.addTask {
                    let done = connection.channel.eventLoop.makePromise(of: Void.self)
                    connection.channel.eventLoop.execute {
                        connection.handler.value.start(requests: requests, offset: offset, total: perConnection, window: window, done: done)
                    }
                    try await done.futureResult.get()
                }
            }
            try await tasks.waitForAll()
        }
    }

    func close() async {
        for connection in connections { try? await connection.channel.close() }
        try? await group.shutdownGracefully()
    }
}

/// Writes prepared requests and reads the answers off one connection, in order.
final class PipelineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private var context: ChannelHandlerContext?
    private var received = ByteBuffer()
    private var requests: [PipelinedLoad.Request] = []
    private var offset = 0
    private var total = 0
    private var sent = 0
    private var answered = 0
    private var window = 1
    private var done: EventLoopPromise<Void>?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func start(requests: [PipelinedLoad.Request], offset: Int, total: Int, window: Int, done: EventLoopPromise<Void>) {
        self.requests = requests
        self.offset = offset
        self.total = total
        self.window = window
        self.sent = 0
        self.answered = 0
        self.done = done
        if total == 0 { return done.succeed() }
        send()
    }

    private func send() {
        guard let context else { return }
        var wrote = false
        while sent < total && sent - answered < window {
            context.write(wrapOutboundOut(requests[(offset + sent) % requests.count].bytes), promise: nil)
            sent += 1
            wrote = true
        }
        if wrote { context.flush() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        received.writeBuffer(&incoming)
        while let answer = nextAnswer() {
            let request = requests[(offset + answered) % requests.count]
            answered += 1
            guard answer.status == 200, answer.body.offset(of: request.expected) != nil else {
                let text = String(decoding: answer.body.readableBytesView, as: UTF8.self)
                done?.fail(Failure(description: "answer \(answered): HTTP \(answer.status): \(text.prefix(300))"))
                done = nil
                context.close(promise: nil)
                return
            }
            if answered == total {
                done?.succeed()
                done = nil
                received.clear()
                return
            }
        }
        received.discardReadBytes()
        send()
    }

    private static let headEnd: [UInt8] = [13, 10, 13, 10]

    /// Takes one whole answer off the received bytes, if there is one (Content-Length bodies only,
    /// which is what the server sends for these requests).
    private func nextAnswer() -> (status: Int, body: ByteBuffer)? {
        guard let end = received.offset(of: Self.headEnd) else { return nil }
        let headerLength = end + Self.headEnd.count
        let head = String(decoding: received.readableBytesView.prefix(headerLength), as: UTF8.self)
        let status = Int(head.dropFirst(9).prefix(3)) ?? 0
        var length = 0
        for line in head.split(separator: "\r\n") where line.lowercased().hasPrefix("content-length:") {
            length = Int(line.dropFirst("content-length:".count).trimmingPrefix(" ")) ?? 0
        }
        guard received.readableBytes >= headerLength + length else { return nil }
        received.moveReaderIndex(forwardBy: headerLength)
        let body = received.readSlice(length: length) ?? ByteBuffer()
        return (status, body)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        done?.fail(error)
        done = nil
        context.close(promise: nil)
    }
}

extension ByteBuffer {
    /// Where `needle` first starts in the readable bytes (from the reader index), found with
    /// memchr and memcmp: the generic `firstRange(of:)` cost the load client a quarter of its
    /// time, on the cores the server needs.
    func offset(of needle: [UInt8]) -> Int? {
        guard let first = needle.first else { return 0 }
        return withUnsafeReadableBytes { haystack -> Int? in
            guard let base = haystack.baseAddress, haystack.count >= needle.count else { return nil }
            var start = 0
            let last = haystack.count - needle.count
            while start <= last {
                guard let found = memchr(base + start, Int32(first), last - start + 1) else { return nil }
                let at = base.distance(to: UnsafeRawPointer(found))
                if needle.withUnsafeBytes({ memcmp(found, $0.baseAddress!, needle.count) }) == 0 { return at }
                start = at + 1
            }
            return nil
        }
    }
}
