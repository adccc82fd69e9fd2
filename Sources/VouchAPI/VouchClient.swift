import Foundation
import VouchKit

/// A typed client of the Vouch API, over any ``VouchTransport``. Calls that return a type throw
/// ``VouchClientError`` for a refusal; ``exchange(_:_:body:)`` returns any answer as it came.
///
/// ```swift
/// let admin = VouchClient(transport: try URLSessionTransport(server: "http://127.0.0.1:8080"), credential: .apiKey(key))
/// let created = try await admin.createGroup(GroupRequest(name: "sensors"))
/// ```
public struct VouchClient: Sendable {
    /// Who the requests come from.
    public enum Credential: Sendable {
        /// Nobody: the public and enrollment routes.
        case anonymous
        /// An API key, sent as a bearer token.
        case apiKey(String)
        /// A device: every request carries a DPoP proof (RFC 9449) by `key`, and, once it has one,
        /// the device access token that proof binds (`Authorization: DPoP <token>`).
        case device(key: SigningKey, accessToken: String?)
    }

    /// A request body.
    public enum Body: Sendable {
        case none
        case json(any Encodable & Sendable)
        case text(String)
        case bytes([UInt8], contentType: String)
    }

    public var transport: any VouchTransport
    public var credential: Credential
    /// Headers sent with every request (such as `Prefer: return=minimal`).
    public var headers: [(name: String, value: String)] = []
    /// The time DPoP proofs are signed at: the simulation's clock in simulations.
    public var now: @Sendable () -> Date = { Date() }

    public init(transport: any VouchTransport, credential: Credential = .anonymous) {
        self.transport = transport
        self.credential = credential
    }

    /// The same client with another credential.
    public func with(_ credential: Credential) -> VouchClient {
        var copy = self
        copy.credential = credential
        return copy
    }

    /// The same client over another transport.
    public func withTransport(_ transport: any VouchTransport) -> VouchClient {
        var copy = self
        copy.transport = transport
        return copy
    }

    /// Sends a request and returns the answer whatever its status.
    public func exchange(_ method: String, _ path: String, body: Body = .none) async throws -> VouchResponse {
        try await transport.send(try request(method, path, body: body))
    }

    /// The request `exchange` would send: this client's headers, its credential (a fresh DPoP
    /// proof for a device) and the encoded body. For callers that send it themselves, such as a
    /// load generator replaying prepared requests.
    public func request(_ method: String, _ path: String, body: Body = .none) throws -> VouchRequest {
        var request = VouchRequest(method: method, path: path, headers: headers)
        switch credential {
        case .anonymous:
            break
        case .apiKey(let key):
            request.headers.append(("Authorization", "Bearer \(key)"))
        case .device(let key, let token):
            let proof = try DPoPProof.sign(method: method, url: transport.server + path, accessToken: token, key: key, now: now())
            request.headers.append((DPoPProof.header, proof))
            if let token { request.headers.append(("Authorization", "DPoP \(token)")) }
        }
        switch body {
        case .none:
            break
        case .json(let value):
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            request.body = Array(try encoder.encode(value))
            request.headers.append(("Content-Type", "application/json"))
        case .text(let text):
            request.body = Array(text.utf8)
            request.headers.append(("Content-Type", "text/plain; charset=utf-8"))
        case .bytes(let bytes, let contentType):
            request.body = bytes
            request.headers.append(("Content-Type", contentType))
        }
        return request
    }

    /// Sends a request; a status outside 2xx throws ``VouchClientError/refused(_:)``.
    @discardableResult
    public func send(_ method: String, _ path: String, body: Body = .none) async throws -> VouchResponse {
        let response = try await exchange(method, path, body: body)
        guard response.isSuccess else { throw VouchClientError.refused(response) }
        return response
    }

    /// Sends a request and decodes its 2xx answer.
    public func call<Answer: Decodable>(_ method: String, _ path: String, body: Body = .none, as type: Answer.Type = Answer.self) async throws -> Answer {
        try await send(method, path, body: body).decode(Answer.self)
    }

    /// A path segment with everything but unreserved characters percent-encoded.
    public static func segment(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    /// A query string from the pairs whose value is not nil (`?a=1&b=2`, or empty).
    public static func query(_ items: [(String, String?)]) -> String {
        let present = items.compactMap { name, value in value.map { "\(name)=\(segment($0))" } }
        return present.isEmpty ? "" : "?" + present.joined(separator: "&")
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

/// This build's version, as `vouch --version` prints it.
public enum VouchVersion {
    public static let current = "0.17.0"
}
