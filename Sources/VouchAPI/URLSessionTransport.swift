import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A transport over URLSession: what the CLI uses.
public struct URLSessionTransport: VouchTransport {
    public let server: String
    /// How long one answer may take.
    public var timeout: TimeInterval = 30

    /// A transport to `server`, an http:// or https:// URL (a trailing `/` is dropped).
    public init(server: String) throws {
        var url = server
        while url.hasSuffix("/") { url.removeLast() }
        guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https", parsed.host != nil else {
            throw VouchClientError.unreachable("\(server.prefix(200)) is not an http:// or https:// URL, such as http://127.0.0.1:8080")
        }
        self.server = url
    }

    public func send(_ request: VouchRequest) async throws -> VouchResponse {
        guard let url = URL(string: server + request.path) else {
            throw VouchClientError.unreachable("\(request.path.prefix(200)) is not a path on \(server)")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method
        urlRequest.timeoutInterval = timeout
        for (name, value) in request.headers { urlRequest.addValue(value, forHTTPHeaderField: name) }
        if let body = request.body { urlRequest.httpBody = Data(body) }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: urlRequest)
        } catch {
            throw VouchClientError.unreachable("cannot reach \(server): \(error.localizedDescription)")
        }
        guard let http = response as? HTTPURLResponse else { throw VouchClientError.unreachable("\(server) did not answer over HTTP") }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        return VouchResponse(status: http.statusCode, headers: headers, body: Array(data))
    }

    /// GET of an absolute http(s) URL, such as a status list a credential names.
    public static func get(_ url: String) async throws -> VouchResponse {
        guard let parts = URLComponents(string: url), let scheme = parts.scheme, scheme == "http" || scheme == "https", let host = parts.percentEncodedHost,
            !host.isEmpty
        else {
            throw VouchClientError.unreachable("\(url.prefix(200)) is not an http(s) URL")
        }
        let origin = "\(scheme)://\(host)" + (parts.port.map { ":\($0)" } ?? "")
        var path = parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath
        if let query = parts.percentEncodedQuery { path += "?" + query }
        return try await URLSessionTransport(server: origin).send(VouchRequest(method: "GET", path: path))
    }
}
