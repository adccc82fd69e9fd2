import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import Synchronization
import VouchStore

/// What the server's Server-Sent Event streams share: how many are open, how a position from
/// outside is read, and the loop that writes frames as commits happen, with heartbeats, until the
/// client leaves, the reader ends it or the server shuts down.
enum ServerSentEvents {
    /// The most streams of one kind a server keeps open: each holds a connection and wakes on every commit.
    static var limit: Int { 1_000 }

    /// Streams open on this server.
    final class OpenStreams: Sendable {
        private let count = Atomic(0)
        func take(limit: Int) -> Bool {
            if count.add(1, ordering: .relaxed).newValue > limit {
                count.subtract(1, ordering: .relaxed)
                return false
            }
            return true
        }
        func give() { count.subtract(1, ordering: .relaxed) }
    }

    /// A position from outside (a sequence number, a generation): whole, 0 or more, at most 15 digits.
    static func position(_ text: Substring, named name: String) throws -> Int {
        guard !text.isEmpty, text.utf8.count <= 15, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text) else {
            throw ServiceError.invalidRequest("\(name) must be an event sequence number (0 or more)")
        }
        return value
    }

    /// Where a stream starts: `Last-Event-ID`, else `?after=`, else `newest`; past `newest` is
    /// another log's position (a database restored from an older backup numbers again), refused.
    static func start(_ request: Request, newest: Int, what: String) throws -> Int {
        // Both are checked when both are given; a reconnecting client's Last-Event-ID wins.
        let after = try request.uri.queryParameters["after"].map { try position($0, named: "after") }
        let start: Int
        if let resume = request.headers[HTTPField.Name("Last-Event-ID")!] {
            start = try position(Substring(resume.trimmingCharacters(in: .whitespaces)), named: "Last-Event-ID")
        } else {
            start = after ?? newest
        }
        guard start <= newest else {
            throw ServiceError.conflict("\(what) \(start) is past the newest, \(newest): this is not the log the client read; resume from 0")
        }
        return start
    }

    /// What one read gives: the frames to send, the position they bring the stream to, and whether
    /// there is more to read at once (a full page) rather than after the next commit.
    struct Page: Sendable {
        var frames: String
        var last: Int
        var more: Bool
    }

    /// The streaming answer: `retry` and a comment naming where it starts, then what `read` gives
    /// from each position on (nil ends the stream), woken by `pulse`; a `: heartbeat POSITION`
    /// comment when nothing was written for `heartbeat`, so proxies and clients see it alive and
    /// know how current it is.
    /// `caller` counts the streams of one caller (a console session) the same way, when given.
    static func response(
        open: OpenStreams, caller: (take: @Sendable () -> Bool, give: @Sendable () -> Void)? = nil, pulse: Pulse, heartbeat: Duration, start: Int,
        greeting: String, read: @escaping @Sendable (Int) async throws -> Page?
    ) -> Response {
        let body = ResponseBody { writer in
            // Counted while the body runs (a HEAD request, or a client gone before it starts, never
            // runs it). Past the limit the stream ends at once, and the client comes back later.
            guard open.take(limit: limit) else {
                try await writer.write(ByteBuffer(string: "retry: 30000\n: this server has \(limit) such streams open; try again later\n\n"))
                try await writer.finish(nil)
                return
            }
            defer { open.give() }
            if let caller {
                guard caller.take() else {
                    try await writer.write(ByteBuffer(string: "retry: 30000\n: this session has as many streams open as it may; close a tab\n\n"))
                    try await writer.finish(nil)
                    return
                }
            }
            defer { caller?.give() }
            try await writer.write(ByteBuffer(string: "retry: 2000\n: \(greeting)\n\n"))
            // A server shutting down ends its streams (clients resume elsewhere or after the restart).
            let stopping = Atomic(false)
            try await withGracefulShutdownHandler {
                var last = start
                var lastWrite = ContinuousClock.now
                while !Task.isCancelled, !stopping.load(ordering: .relaxed) {
                    let beat = pulse.beat
                    guard let page = try await read(last) else { break }
                    last = page.last
                    if !page.frames.isEmpty {
                        try await writer.write(ByteBuffer(string: page.frames))
                        lastWrite = ContinuousClock.now
                    }
                    if !page.more {
                        await pulse.wait(after: beat, timeout: heartbeat)
                    }
                    if ContinuousClock.now - lastWrite >= heartbeat, !Task.isCancelled, !stopping.load(ordering: .relaxed) {
                        try await writer.write(ByteBuffer(string: ": heartbeat \(last)\n\n"))
                        lastWrite = ContinuousClock.now
                    }
                }
            } onGracefulShutdown: {
                stopping.store(true, ordering: .relaxed)
                pulse.pulse()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-store", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: body)
    }
}
