import ArgumentParser
import Foundation
import VouchKit

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A small JSON client for the Vouch API. A refused request prints the server's problem `detail`
/// and exits 1; an unreachable server exits 2.
struct APIClient {
    let server: String
    var apiKey: String?
    /// A device access token, sent instead of an API key (with a DPoP proof by `dpopKey`).
    var bearer: String?
    /// The device key that signs a DPoP proof (RFC 9449) for every request: the token request, and
    /// each use of the access token it binds.
    var dpopKey: SigningKey?

    init(server: String, apiKey: String? = nil) throws {
        var url = server
        while url.hasSuffix("/") { url.removeLast() }
        guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https", parsed.host != nil else {
            throw ValidationError("--server must be an http:// or https:// URL, such as http://127.0.0.1:8080")
        }
        self.server = url
        self.apiKey = apiKey
    }

    @discardableResult
    func send(_ method: String, _ path: String, json body: JSONValue? = nil) async throws -> (status: Int, body: Data) {
        let (status, data) = try await exchange(method, path, json: body)
        guard (200..<300).contains(status) else {
            let problem = try? JSONValue(parsing: data)
            let detail = problem?["detail"]?.stringValue ?? String(decoding: data.prefix(500), as: UTF8.self)
            CLIOutput.error("Error: \(detail) (HTTP \(status))")
            if let legal = problem?["legalActions"]?.stringValue { CLIOutput.error("legal actions: \(legal)") }
            throw ExitCode(1)
        }
        return (status, data)
    }

    /// The request and whatever status it gets, refusals included; only an unreachable server
    /// (no answer at all) exits, with status 2.
    func exchange(_ method: String, _ path: String, json body: JSONValue? = nil, text: String? = nil) async throws -> (status: Int, body: Data) {
        var request = URLRequest(url: URL(string: server + path)!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let dpopKey {
            let proof = try DPoPProof.sign(method: method, url: server + path, accessToken: bearer, key: dpopKey)
            request.setValue(proof, forHTTPHeaderField: DPoPProof.header)
        }
        if let bearer {
            request.setValue("\(dpopKey == nil ? "Bearer" : "DPoP") \(bearer)", forHTTPHeaderField: "Authorization")
        } else if let apiKey {
            request.setValue("Bearer \(apiKey)", forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            request.httpBody = try encoder.encode(body)
        } else if let text {
            request.setValue("text/plain; charset=utf-8", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(text.utf8)
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            CLIOutput.error("Error: cannot reach \(server): \(error.localizedDescription)")
            throw ExitCode(2)
        }
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    }

    func json(_ method: String, _ path: String, body: JSONValue? = nil) async throws -> JSONValue {
        let (_, data) = try await send(method, path, json: body)
        guard !data.isEmpty else { return .null }
        return try JSONValue(parsing: data)
    }

    func text(_ path: String) async throws -> String {
        String(decoding: try await send("GET", path).body, as: UTF8.self)
    }

    /// GET of an absolute URL (status lists named in credentials).
    static func fetch(_ url: String) async throws -> String {
        guard let parsed = URL(string: url), parsed.scheme == "http" || parsed.scheme == "https" else {
            throw ValidationError("\(url) is not an http(s) URL")
        }
        do {
            let (data, response) = try await URLSession.shared.data(from: parsed)
            guard (response as? HTTPURLResponse)?.statusCode == 200 else {
                CLIOutput.error("Error: \(url) answered HTTP \((response as? HTTPURLResponse)?.statusCode ?? 0)")
                throw ExitCode(1)
            }
            return String(decoding: data, as: UTF8.self)
        } catch let error as ExitCode {
            throw error
        } catch {
            CLIOutput.error("Error: cannot fetch \(url): \(error.localizedDescription)")
            throw ExitCode(2)
        }
    }
}
