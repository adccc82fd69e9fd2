import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SwiftASN1
import Testing
import VouchAPI
import VouchKit
import VouchServer
import VouchStore
import VouchTesting
import X509

/// A fresh data directory, removed afterwards.
func withDataDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-test-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Runs `test` against the real application on `dataDirectory` (in process, or on a socket with `.live`).
/// The server listens on port 0 (the kernel chooses); a nil `publicURL` names the chosen port.
func withServer<T: Sendable>(
    dataDirectory: String, setup: TestingSetup = .router, port: Int = 0, publicURL: String? = "https://vouch.test", rateLimitPerMinute: Int = 600,
    databaseURL: String? = nil, _ test: @escaping @Sendable (any TestClientProtocol, String) async throws -> T
) async throws -> T {
    try await withServer(
        dataDirectory: dataDirectory, setup: setup, port: port, publicURL: publicURL, rateLimitPerMinute: rateLimitPerMinute, databaseURL: databaseURL
    ) {
        client, admin, _ in try await test(client, admin)
    }
}

/// The same, also handing `test` the server's route list.
func withServer<T: Sendable>(
    dataDirectory: String, setup: TestingSetup = .router, port: Int = 0, publicURL: String? = "https://vouch.test", rateLimitPerMinute: Int = 600,
    databaseURL: String? = nil, witnesses: [String] = [], witnessQuorum: Int? = nil, clock: @escaping @Sendable () -> Date = { Date() },
    trustedProxies: [IPAddressRange] = [], heartbeat: Duration = .seconds(15), webhooks: WebhookSettings = WebhookSettings(),
    rabbitMQ: RabbitMQSettings = RabbitMQSettings(), _ test: @escaping @Sendable (any TestClientProtocol, String, [String]) async throws -> T
) async throws -> T {
    var logger = Logger(label: "vouch-test")
    logger.logLevel = .warning
    var configuration = ServerConfiguration(
        port: port, dataDirectory: dataDirectory, databaseURL: databaseURL, publicURL: publicURL, rateLimitPerMinute: rateLimitPerMinute,
        checkpointInterval: .milliseconds(50), witnesses: witnesses, witnessQuorum: witnessQuorum)
    configuration.clock = clock
    configuration.trustedProxies = trustedProxies
    configuration.eventStreamHeartbeat = heartbeat
    configuration.webhooks = webhooks
    configuration.rabbitMQ = rabbitMQ
    let server = try await buildApplication(configuration: configuration, logger: logger)
    let adminKey = try String(contentsOfFile: dataDirectory + "/admin-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    let routes = server.routes
    let result = try await server.application.test(setup) { client in
        try await test(client, adminKey, routes)
    }
    if databaseURL == nil { try await waitForSQLiteRelease(dataDirectory) }
    return result
}

/// Waits (10 s at most) until no server of this process holds the SQLite database of
/// `dataDirectory`: a stopped application's services close it on their own time, after the test
/// client has returned, and a test that starts the next server (or an offline command) at once
/// would find it taken.
func waitForSQLiteRelease(_ dataDirectory: String) async throws {
    let database = dataDirectory + "/vouch.sqlite"
    guard FileManager.default.fileExists(atPath: database) else { return }
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        if let lock = try? FileLock.acquire(forDatabase: database) {
            lock.release()
            return
        }
        try await Task.sleep(for: .milliseconds(10))
    }
    Issue.record("the stopped server still holds \(database) after 10 s")
}

struct HTTPResult {
    var status: Int
    var body: Data
    var headers: HTTPFields
    var json: JSONValue { (try? JSONValue(parsing: body)) ?? .null }
    var text: String { String(decoding: body, as: UTF8.self) }
}

extension TestClientProtocol {
    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, json: JSONValue? = nil, apiKey: String? = nil, headers: HTTPFields = [:], body: [UInt8]? = nil) async throws -> HTTPResult {
        var fields = headers
        if let apiKey { fields[.authorization] = "Bearer \(apiKey)" }
        var buffer: ByteBuffer?
        if let json {
            fields[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONEncoder().encode(json))
        } else if let body {
            buffer = ByteBuffer(bytes: body)
        }
        return try await execute(uri: uri, method: method, headers: fields, body: buffer) { response in
            HTTPResult(status: Int(response.status.code), body: Data(response.body.readableBytesView), headers: response.headers)
        }
    }

    /// Creates a claim-token group and returns its token.
    func createGroup(_ name: String, apiKey: String, extra: [String: JSONValue] = [:]) async throws -> String? {
        var body: [String: JSONValue] = ["name": .string(name)]
        body.merge(extra) { $1 }
        let result = try await call(.post, "/v1/admin/groups", json: .object(body), apiKey: apiKey)
        #expect(result.status == 201, "\(result.text)")
        return result.json["claimToken"]?.stringValue
    }

    func nonce() async throws -> String {
        try #require(try await call(.post, "/v1/enrollments/nonce").json["nonce"]?.stringValue)
    }
}

/// A VouchTransport over Hummingbird's test client: the typed client against the application in
/// process (or on its socket with `.live`). `server` is the public URL DPoP proofs name.
struct TestClientTransport: VouchTransport {
    let client: any TestClientProtocol
    let server: String

    func send(_ request: VouchRequest) async throws -> VouchResponse {
        var fields = HTTPFields()
        for (name, value) in request.headers {
            guard let field = HTTPField.Name(name) else { throw VouchClientError.unreachable("\(name) is not a header name") }
            fields.append(HTTPField(name: field, value: value))
        }
        guard let method = HTTPRequest.Method(request.method) else { throw VouchClientError.unreachable("\(request.method) is not a method") }
        return try await client.execute(uri: request.path, method: method, headers: fields, body: request.body.map { ByteBuffer(bytes: $0) }) { response in
            var headers: [String: String] = [:]
            for field in response.headers { headers[field.name.canonicalName] = field.value }
            return VouchResponse(status: Int(response.status.code), headers: headers, body: Array(response.body.readableBytesView))
        }
    }
}

extension TestClientProtocol {
    /// The typed client over this test client, as `credential`.
    func vouch(_ credential: VouchClient.Credential = .anonymous, server: String = "https://vouch.test") -> VouchClient {
        VouchClient(transport: TestClientTransport(client: self, server: server), credential: credential)
    }
}

/// Expects the client error of a refusal with `status` whose problem detail contains `phrase`.
func expectRefusal(
    _ status: Int, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> some Any
) async {
    do {
        let answer = try await body()
        Issue.record("expected HTTP \(status) (\(phrase)), got \(answer)", sourceLocation: sourceLocation)
    } catch let error as VouchClientError {
        #expect(error.code == .refused, "\(error)", sourceLocation: sourceLocation)
        #expect(error.status == status, "\(error)", sourceLocation: sourceLocation)
        #expect(error.problem?.detail?.contains(phrase) == true, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected HTTP \(status) (\(phrase)), got \(error)", sourceLocation: sourceLocation)
    }
}

/// Expects an RFC 9457 problem with `status` whose detail contains `phrase`.
func expectProblem(_ result: HTTPResult, _ status: Int, _ phrase: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(result.status == status, "\(result.text)", sourceLocation: sourceLocation)
    #expect(result.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
    #expect(result.json["detail"]?.stringValue?.contains(phrase) == true, "\(result.text)", sourceLocation: sourceLocation)
}

/// A device's side of enrollment, with knobs to break each part.
extension DeviceAgent {
    func enrollmentBody(
        nonce: String, group: String, token: String?, attributes: [String: String] = ["model": "m1", "serial": "s1"],
        proofKey: SigningKey? = nil, proofNonce: String? = nil, csrKey: SigningKey? = nil
    ) async throws -> JSONValue {
        var request = try await enrollmentRequest(nonce: nonce, group: group, claimToken: token, attributes: attributes)
        if proofKey != nil || proofNonce != nil {
            request.proof = try await PossessionProof(nonce: proofNonce ?? nonce, group: group).sign(with: proofKey ?? key)
        }
        if let csrKey { request.csr = try DeviceAgent(key: csrKey).certificateSigningRequestPEM() }
        return try JSONValue(encoding: request)
    }
}

/// Runs a program, returning its exit status and output (stdout and stderr).
func run(_ executable: String, _ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
    try await TestProgram.run(executable, arguments, input: input)
}

let opensslPath: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
