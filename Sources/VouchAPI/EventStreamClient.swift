import Foundation
import Synchronization
import VouchKit

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Reads a Server-Sent Events stream (`GET /v1/events/stream`) over URLSession, as an EventSource
/// does: frames are handed out as they arrive, and a dropped connection is opened again after the
/// server's `retry` delay with `Last-Event-ID`, so that no event is missed or repeated. A refusal
/// (an answer other than 200) ends the sequence with the server's problem.
public struct EventStreamClient: Sendable {
    /// One frame: its `id`, `event` and `data` fields; or, when asked for, a comment line (its
    /// text after the colon, in `comment`), such as a heartbeat.
    public struct Frame: Sendable, Equatable {
        public var id: String?
        public var event: String?
        public var data: String
        public var comment: String? = nil
    }

    public let server: String
    public let apiKey: String?

    public init(server: String, apiKey: String?) throws {
        self.server = try URLSessionTransport(server: server).server
        self.apiKey = apiKey
    }

    /// The frames of `path` (with its query), starting after `lastEventID` when given.
    public func frames(path: String, lastEventID: String? = nil, comments: Bool = false) -> AsyncThrowingStream<Frame, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                // Where to resume, how long to wait first (what the stream last said), and whether
                // the connection delivered anything.
                let resume = Mutex<(last: String?, retry: Duration, heard: Bool)>((lastEventID, .seconds(2), false))
                var failures = 0
                while !Task.isCancelled {
                    let connection = Connection(comments: comments)
                    resume.withLock { $0.heard = false }
                    do {
                        try await connection.run(url: server + path, apiKey: apiKey, lastEventID: resume.withLock { $0.last }) { frame, retry in
                            resume.withLock {
                                $0.heard = true
                                if let id = frame?.id { $0.last = id }
                                if let retry { $0.retry = retry }
                            }
                            if let frame { continuation.yield(frame) }
                        }
                    } catch let error as VouchClientError where ![429, 502, 503, 504].contains(error.status) {
                        // Refused for good (a wrong key, a bad query): said, not retried.
                        continuation.finish(throwing: error)
                        return
                    } catch {
                        // Dropped, or a proxy's answer while the server restarts: open it again after
                        // the delay, from the last event seen; five failures in a row with nothing
                        // heard end it.
                        failures = resume.withLock { $0.heard } ? 0 : failures + 1
                        if failures >= 5 {
                            continuation.finish(throwing: VouchClientError.unreachable("cannot reach \(server): \((error as? VouchClientError)?.reason ?? error.localizedDescription)"))
                            return
                        }
                    }
                    try? await Task.sleep(for: resume.withLock { $0.retry })
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// One connection: URLSession data callbacks parsed into frames.
    final class Connection: NSObject, URLSessionDataDelegate, @unchecked Sendable {
        private struct State {
            var buffer: [UInt8] = []
            var frame = Frame(id: nil, event: nil, data: "")
            var hasData = false
            var status: Int?
            var refusal: [UInt8] = []
            var onFrame: (@Sendable (Frame?, Duration?) -> Void)?
            var done: CheckedContinuation<Void, any Error>?
        }
        private let state = Mutex(State())
        private let comments: Bool

        init(comments: Bool) {
            self.comments = comments
        }

        func run(url: String, apiKey: String?, lastEventID: String?, onFrame: @escaping @Sendable (Frame?, Duration?) -> Void) async throws {
            guard let target = URL(string: url) else { throw VouchClientError.unreachable("\(url.prefix(200)) is not a URL") }
            var request = URLRequest(url: target)
            request.timeoutInterval = 24 * 3600
            request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
            if let apiKey { request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization") }
            if let lastEventID { request.setValue(lastEventID, forHTTPHeaderField: "Last-Event-ID") }
            let session = URLSession(configuration: .default, delegate: self, delegateQueue: nil)
            defer { session.invalidateAndCancel() }
            let task = session.dataTask(with: request)
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    state.withLock {
                        $0.onFrame = onFrame
                        $0.done = continuation
                    }
                    task.resume()
                }
            } onCancel: {
                task.cancel()
            }
        }

        func urlSession(
            _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
            completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
        ) {
            state.withLock { $0.status = (response as? HTTPURLResponse)?.statusCode }
            completionHandler(.allow)
        }

        func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
            var frames: [(Frame?, Duration?)] = []
            let callback = state.withLock { state -> (@Sendable (Frame?, Duration?) -> Void)? in
                guard state.status == 200 else {
                    // A refusal's body (a problem): kept to say why, up to 64 KiB.
                    if state.refusal.count < 65_536 { state.refusal += data.prefix(65_536 - state.refusal.count) }
                    return nil
                }
                state.buffer += data
                while let newline = state.buffer.firstIndex(of: 0x0A) {
                    var line = Array(state.buffer[..<newline])
                    state.buffer.removeSubrange(...newline)
                    if line.last == 0x0D { line.removeLast() }
                    if line.isEmpty {
                        if state.hasData || state.frame.event != nil || state.frame.id != nil { frames.append((state.frame, nil)) }
                        state.frame = Frame(id: nil, event: nil, data: "")
                        state.hasData = false
                        continue
                    }
                    if line.first == 0x3A {
                        // A comment: a heartbeat, or where the stream starts.
                        if comments { frames.append((Frame(id: nil, event: nil, data: "", comment: String(decoding: line.dropFirst(), as: UTF8.self)), nil)) }
                        continue
                    }
                    let text = String(decoding: line, as: UTF8.self)
                    let (field, value) = text.firstIndex(of: ":").map { colon in
                        (String(text[..<colon]), String(text[text.index(after: colon)...]).drop { $0 == " " }.description)
                    } ?? (text, "")
                    switch field {
                    case "id": state.frame.id = value
                    case "event": state.frame.event = value
                    case "data":
                        state.frame.data += (state.hasData ? "\n" : "") + value
                        state.hasData = true
                    case "retry":
                        if let milliseconds = Int(value), (100...600_000).contains(milliseconds) { frames.append((nil, .milliseconds(milliseconds))) }
                    default: break
                    }
                }
                // A line longer than 1 MiB is no event of this server's: the connection is dropped
                // (and opened again from the last event), not read on from the middle of a line.
                if state.buffer.count > 1 << 20 {
                    state.buffer.removeAll()
                    state.frame = Frame(id: nil, event: nil, data: "")
                    state.hasData = false
                    dataTask.cancel()
                    return nil
                }
                return state.onFrame
            }
            for (frame, retry) in frames { callback?(frame, retry) }
        }

        func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
            let (done, status, refusal) = state.withLock { state in
                defer { state.done = nil }
                return (state.done, state.status, state.refusal)
            }
            if let status, status != 200 {
                done?.resume(throwing: VouchClientError.refused(VouchResponse(status: status, headers: ["content-type": "application/problem+json"], body: refusal)))
            } else if let error {
                done?.resume(throwing: error)
            } else {
                done?.resume()
            }
        }
    }
}
