import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import VouchAPI

/// The gate's HTTP to the server, over AsyncHTTPClient (SwiftNIO): in a broker's process an idle
/// stream must cost nothing, and FoundationNetworking's URLSession kept a dispatch thread busy
/// polling libcurl for as long as the change stream was open (about 40% of a core measured inside
/// Mosquitto, see Benchmarks/broker-ratios.sh).
final class GatewayHTTP: VouchTransport, Sendable {
    let server: String
    private let client: HTTPClient

    init(server: String) throws {
        guard let url = URL(string: server), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw VouchClientError.unreachable("\(server.prefix(200)) is not an http or https URL")
        }
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        // The process-wide client: nothing to shut down (a plugin is never unloaded).
        client = HTTPClient.shared
    }

    func send(_ request: VouchRequest) async throws -> VouchResponse {
        var outgoing = HTTPClientRequest(url: server + request.path)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body {
            outgoing.body = .bytes(ByteBuffer(bytes: body))
            outgoing.headers.replaceOrAdd(name: "content-length", value: String(body.count))
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(outgoing, timeout: .seconds(60))
        } catch {
            throw VouchClientError.unreachable("cannot reach \(server): \(error)")
        }
        let body = try await response.body.collect(upTo: 64 << 20)
        var headers: [String: String] = [:]
        for header in response.headers { headers[header.name.lowercased()] = header.value }
        return VouchResponse(status: Int(response.status.code), headers: headers, body: Array(body.readableBytesView))
    }

    /// One Server-Sent Events frame, or a comment line (a heartbeat).
    struct Frame: Sendable {
        var id: String?
        var event: String?
        var data = ""
        var comment: String?
    }

    /// Reads the stream at `path` until it ends or fails; calls `frame` for each frame and comment.
    /// An answer other than 200 throws the server's refusal.
    func stream(_ path: String, apiKey: String, lastEventID: String?, frame: (Frame) throws -> Void) async throws {
        var request = HTTPClientRequest(url: server + path)
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        if let lastEventID { request.headers.add(name: "Last-Event-ID", value: lastEventID) }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, timeout: .hours(24 * 365))
        } catch {
            throw VouchClientError.unreachable("cannot reach \(server): \(error)")
        }
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 65_536)
            throw VouchClientError.refused(
                VouchResponse(status: Int(response.status.code), headers: ["content-type": "application/problem+json"], body: Array(body.readableBytesView)))
        }
        var line: [UInt8] = []
        var current = Frame()
        var hasData = false
        for try await buffer in response.body {
            for byte in buffer.readableBytesView {
                guard byte == 0x0A else {
                    line.append(byte)
                    // A line longer than 1 MiB is no frame of this server's.
                    if line.count > 1 << 20 { throw VouchClientError.unreachable("the stream sent a line longer than 1 MiB") }
                    continue
                }
                if line.last == 0x0D { line.removeLast() }
                defer { line.removeAll(keepingCapacity: true) }
                if line.isEmpty {
                    if hasData || current.event != nil || current.id != nil { try frame(current) }
                    current = Frame()
                    hasData = false
                } else if line.first == 0x3A {
                    try frame(Frame(comment: String(decoding: line.dropFirst(), as: UTF8.self).trimmingCharacters(in: .whitespaces)))
                } else {
                    let text = String(decoding: line, as: UTF8.self)
                    let colon = text.firstIndex(of: ":")
                    let field = colon.map { String(text[..<$0]) } ?? text
                    var value = colon.map { String(text[text.index(after: $0)...]) } ?? ""
                    if value.hasPrefix(" ") { value.removeFirst() }
                    switch field {
                    case "id": current.id = value
                    case "event": current.event = value
                    case "data":
                        current.data += (hasData ? "\n" : "") + value
                        hasData = true
                    default: break
                    }
                }
            }
        }
    }
}
