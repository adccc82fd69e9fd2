import Foundation

/// A request as a ``VouchClient`` hands it to its transport.
public struct VouchRequest: Sendable {
    public var method: String
    /// The path and query, such as `/v1/admin/devices?limit=10`.
    public var path: String
    /// Header fields; names as written here.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?

    public init(method: String, path: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}

/// A server's answer, whatever its status.
public struct VouchResponse: Sendable {
    public var status: Int
    /// Header fields, names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int, headers: [String: String] = [:], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public var isSuccess: Bool { (200..<300).contains(status) }
    public var text: String { String(decoding: body, as: UTF8.self) }
    public var contentType: String? { headers["content-type"] }

    /// The body decoded as `type`.
    public func decode<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw VouchClientError.malformedAnswer(status: status, "the answer is not a \(T.self): \(error)")
        }
    }

    /// The problem a refusal carries, if it is one.
    public var problem: ProblemDetails? {
        guard !isSuccess else { return nil }
        return try? JSONDecoder().decode(ProblemDetails.self, from: Data(body))
    }
}

/// How a ``VouchClient`` reaches a server: URLSession for the CLI, one keep-alive NIO connection
/// for the simulator, the application itself in tests.
public protocol VouchTransport: Sendable {
    /// The server's base URL as the client names it (`http://127.0.0.1:8080`): what a DPoP proof's
    /// `htu` begins with.
    var server: String { get }

    /// Sends a request and returns the answer, whatever its status; throws only when there is no
    /// answer (``VouchClientError/unreachable(_:)``).
    func send(_ request: VouchRequest) async throws -> VouchResponse
}
