import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import VouchKit

/// Sends one webhook request, safely for the authority: the host is resolved first and refused when
/// any of its addresses is private, loopback, link-local or otherwise not on the internet (unless the
/// operator allows them), and the connection goes to the address that was checked (the name is kept
/// for TLS), so a name that changes its answer between the check and the connection (DNS rebinding)
/// reaches nothing it was not allowed to. Redirects are not followed; the connection and the answer
/// each have a deadline; at most `answerLimit` bytes of the answer are read.
struct WebhookSender: Sendable {
    var allowPrivate: Bool
    var connectTimeout: Duration
    var answerTimeout: Duration

    /// The most of an answer's body read, and the most kept with the attempt.
    static let answerLimit = 64 * 1024
    static let excerptLimit = 512

    /// How an attempt went.
    struct Outcome: Sendable, Hashable {
        /// The answer's status, when there was one.
        var status: Int?
        /// Seconds the endpoint asked to wait (`Retry-After`), range-checked.
        var retryAfter: Int?
        var latencyMs: Int
        /// Why there was no answer, or why the answer was not taken.
        var error: String?
        /// The first bytes of the answer's body, as text.
        var excerpt: String?

        var succeeded: Bool { status.map { (200..<300).contains($0) } ?? false }
    }

    /// Addresses that are not on the internet: loopback, private, shared, link-local, documentation,
    /// benchmarking, multicast and reserved ranges (IPv4-mapped IPv6 is read as IPv4).
    static let nonPublicRanges: [IPAddressRange] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
        "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
        "::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    ].map { try! IPAddressRange($0) }

    static func isPublic(_ address: IPAddress) -> Bool {
        let bytes = address.bytes
        // NAT64 (64:ff9b::/96) carries an IPv4 address in its last four bytes, 6to4 (2002::/16) in
        // the four after the prefix: that address decides.
        if bytes.count == 16, bytes.prefix(12).elementsEqual([0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0]),
            let embedded = IPAddress(bytes.suffix(4).map(String.init).joined(separator: "."))
        {
            return isPublic(embedded)
        }
        if bytes.count == 16, bytes[0] == 0x20, bytes[1] == 0x02, let embedded = IPAddress(bytes[2..<6].map(String.init).joined(separator: ".")) {
            return isPublic(embedded)
        }
        return !nonPublicRanges.contains { $0.contains(address) }
    }

    /// The host the HTTP client will connect to, as it reads the URL (`URL.host`, brackets taken
    /// off): the check and the pin must be about the very name the client looks up.
    static func host(of text: String) -> String? {
        guard let host = URL(string: text)?.host, !host.isEmpty else { return nil }
        return host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }

    /// Why a URL cannot be a webhook endpoint, as an operator should read it; nil when it can.
    static func problem(with text: String, allowPrivate: Bool) -> String? {
        guard text.utf8.count <= 2048 else { return "the URL is longer than 2048 bytes" }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            return "\(text.prefix(128)) is not an http or https URL"
        }
        // The host as the HTTP client reads it (URLComponents would read an xn-- name as Unicode):
        // the address checked is the one connected to.
        guard let host = Self.host(of: text) else { return "the URL \(text.prefix(128)) names no host" }
        guard host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            return "write the host in ASCII (an internationalised name as its xn-- form)"
        }
        guard components.user == nil, components.password == nil else { return "the URL must not carry a user or password" }
        guard components.fragment == nil else { return "the URL must not have a fragment" }
        if let port = components.port, !(1...65_535).contains(port) { return "the URL's port must be 1–65535" }
        let name = host.hasSuffix(".") ? String(host.dropLast()) : host
        // 127.1, 2130706433, 0x7f.1: numbers the resolver reads as an address, in a form the check would not.
        if IPAddress(name) == nil, name.first?.isNumber == true, name.allSatisfy({ "0123456789abcdefABCDEFxX.".contains($0) }) {
            return "write an IPv4 address as four decimal numbers (\(name.prefix(64)) is read as one in another form)"
        }
        if !allowPrivate {
            if let address = IPAddress(name), !isPublic(address) {
                return "\(host) is a private, loopback or reserved address; start the server with --webhook-allow-private to deliver to it"
            }
            let lowered = name.lowercased()
            if lowered == "localhost" || lowered.hasSuffix(".localhost") {
                return "\(host) is this machine; start the server with --webhook-allow-private to deliver to it"
            }
        }
        return nil
    }

    /// Resolves `host` off the cooperative pool (getaddrinfo blocks).
    static func resolve(_ host: String, port: Int) async throws -> [IPAddress] {
        try await NIOThreadPool.singleton.runIfActive {
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var results: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &results)
            guard status == 0, let first = results else {
                throw ResolutionFailure(description: "\(host) does not resolve: \(String(cString: gai_strerror(status)))")
            }
            defer { freeaddrinfo(first) }
            var addresses: [IPAddress] = []
            var cursor: UnsafeMutablePointer<addrinfo>? = first
            while let entry = cursor {
                var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
                if entry.pointee.ai_family == AF_INET, let raw = entry.pointee.ai_addr {
                    raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                        var value = address.pointee.sin_addr
                        _ = inet_ntop(AF_INET, &value, &buffer, socklen_t(buffer.count))
                    }
                } else if entry.pointee.ai_family == AF_INET6, let raw = entry.pointee.ai_addr {
                    raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                        var value = address.pointee.sin6_addr
                        _ = inet_ntop(AF_INET6, &value, &buffer, socklen_t(buffer.count))
                    }
                }
                let text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if let address = IPAddress(text), !addresses.contains(address) { addresses.append(address) }
                cursor = entry.pointee.ai_next
            }
            return addresses
        }
    }

    struct ResolutionFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// POSTs `body` to `url` with `headers`; never throws: what went wrong is in the outcome.
    func send(url text: String, headers: [(String, String)], body: [UInt8]) async -> Outcome {
        let started = ContinuousClock.now
        func elapsed() -> Int { (ContinuousClock.now - started).milliseconds }
        if let problem = Self.problem(with: text, allowPrivate: allowPrivate) {
            return Outcome(latencyMs: 0, error: problem)
        }
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(), let bare = Self.host(of: text),
            let clientHost = URL(string: text)?.host
        else {
            return Outcome(latencyMs: 0, error: "\(text.prefix(128)) is not a URL")
        }
        var override: [String: String] = [:]
        if IPAddress(bare) == nil {
            let addresses: [IPAddress]
            do {
                addresses = try await Self.resolve(bare, port: components.port ?? (scheme == "https" ? 443 : 80))
            } catch {
                return Outcome(latencyMs: elapsed(), error: "\(error)")
            }
            guard let chosen = addresses.first else { return Outcome(latencyMs: elapsed(), error: "\(bare) resolves to no address") }
            if !allowPrivate, let refused = addresses.first(where: { !Self.isPublic($0) }) {
                return Outcome(
                    latencyMs: elapsed(),
                    error: "\(bare) resolves to \(refused), a private, loopback or reserved address; start the server with --webhook-allow-private to deliver to it")
            }
            // Keyed by the host exactly as the client reads it, so that the pin applies.
            override[clientHost] = chosen.description
        }
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(
                connect: .milliseconds(Int64(connectTimeout.milliseconds)), read: .milliseconds(Int64(answerTimeout.milliseconds))),
            decompression: .disabled)
        configuration.dnsOverride = override
        configuration.connectionPool = .init(idleTimeout: .seconds(1), concurrentHTTP1ConnectionsPerHostSoftLimit: 1)
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        let outcome = await send(text, headers: headers, body: body, client: client, started: started)
        try? await client.shutdown()
        return outcome
    }

    private func send(_ text: String, headers: [(String, String)], body: [UInt8], client: HTTPClient, started: ContinuousClock.Instant) async -> Outcome {
        func elapsed() -> Int { (ContinuousClock.now - started).milliseconds }
        var request = HTTPClientRequest(url: text)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.headers.replaceOrAdd(name: "content-length", value: String(body.count))
        request.body = .bytes(ByteBuffer(bytes: body))
        let deadline = NIODeadline.now() + .milliseconds(Int64(answerTimeout.milliseconds))
        do {
            let response = try await client.execute(request, deadline: deadline)
            let status = Int(response.status.code)
            var read: [UInt8] = []
            do {
                // The answer's body has the same deadline as its head: a sender dripping bytes is cut off.
                for try await chunk in response.body {
                    read += chunk.readableBytesView.prefix(Self.answerLimit - read.count)
                    if read.count >= Self.answerLimit || ContinuousClock.now - started > answerTimeout { break }
                }
            } catch {
                // The status is what counts; a body cut short is noted with the excerpt.
            }
            let excerpt = read.isEmpty ? nil : String(decoding: read.prefix(Self.excerptLimit), as: UTF8.self)
            var outcome = Outcome(status: status, latencyMs: elapsed(), excerpt: excerpt)
            if let value = response.headers.first(name: "retry-after") {
                outcome.retryAfter = Self.retryAfter(value, now: Date())
            }
            if (300..<400).contains(status) {
                outcome.error = "the endpoint redirects (\(status)); redirects are not followed: give the endpoint its final URL"
            }
            return outcome
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return Outcome(latencyMs: elapsed(), error: "no answer within \(answerTimeout)")
        } catch let error as HTTPClientError where error == .connectTimeout {
            return Outcome(latencyMs: elapsed(), error: "no connection within \(connectTimeout)")
        } catch {
            return Outcome(latencyMs: elapsed(), error: "the request failed: \(String(describing: error).prefix(256))")
        }
    }

    /// `Retry-After` as seconds from now: delay-seconds or an HTTP date, at most a day, 0 or more;
    /// nil when it reads as neither.
    static func retryAfter(_ value: String, now: Date) -> Int? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if !trimmed.isEmpty, trimmed.utf8.count <= 10, trimmed.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seconds = Int(trimmed) {
            return min(seconds, 86_400)
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard trimmed.utf8.count <= 64, let date = formatter.date(from: trimmed) else { return nil }
        return max(0, min(Int(date.timeIntervalSince(now).rounded(.up)), 86_400))
    }
}
