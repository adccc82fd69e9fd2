import Foundation
import SwiftASN1
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import VouchKit
import VouchServer

/// A `vouch serve` in this process, on a real socket and a fresh SQLite data directory, with
/// HTTP/1.1 keep-alive connections to it and devices whose keys and CSRs are made in advance (key
/// generation is the device's work, not the server's, and is left out of every figure).
final class ServerFixture: Sendable {
    let dataDirectory: String
    let port: Int
    let adminKey: String
    let connections: [TestClient]
    let group = "bench"
    private let devices: [PreparedDevice]
    private let nextDevice = Mutex(0)
    private let server: Task<Void, any Error>

    struct PreparedDevice: Sendable {
        let key: SigningKey
        let csr: String
    }

    /// An enrolled device: what the benchmarks check revocation against.
    struct Enrolled: Sendable {
        let id: String
        let certificatePEM: String
        let statusIndex: Int
    }

    init(devices count: Int, connections connectionCount: Int) async throws {
        dataDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-bench-\(UUID().uuidString)").path
        port = Int.random(in: 30_000...45_000)
        var logger = Logger(label: "vouch-bench")
        logger.logLevel = .error
        let configuration = ServerConfiguration(
            port: port, dataDirectory: dataDirectory, publicURL: "http://127.0.0.1:\(port)", rateLimitPerMinute: 100_000_000)
        let instance = try await buildApplication(configuration: configuration, logger: logger)
        let application = instance.application
        server = Task { try await application.runService() }
        adminKey = try String(contentsOfFile: dataDirectory + "/admin-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        devices = try (0..<count).map { _ in
            let key = SigningKey.generate(.ed25519)
            return PreparedDevice(key: key, csr: try key.certificateSigningRequest(commonName: "bench").serializeAsPEM().pemString)
        }
        var opened: [TestClient] = []
        for _ in 0..<connectionCount {
            opened.append(try await Self.connect(port: port))
        }
        connections = opened
        let created = try await Self.call(
            connections[0], .post, "/v1/admin/groups", json: ["name": .string(group), "unlimitedTokenUses": true], bearer: adminKey)
        require(created.status == .created, "creating the group failed: \(created.text)")
        guard let token = created.json["claimToken"]?.stringValue else { fatalError("no claim token: \(created.text)") }
        claimToken = token
    }

    let claimToken: String

    /// Opens a connection once the server answers.
    private static func connect(port: Int) async throws -> TestClient {
        for _ in 0..<200 {
            let client = TestClient(host: "127.0.0.1", port: port)
            client.connect()
            if let response = try? await client.get("/healthz"), response.status == .ok { return client }
            try? await client.shutdown()
            try await Task.sleep(for: .milliseconds(50))
        }
        fatalError("the server did not start on port \(port)")
    }

    func stop() async {
        for connection in connections { try? await connection.shutdown() }
        server.cancel()
        _ = try? await server.value
        try? FileManager.default.removeItem(atPath: dataDirectory)
    }

    /// Takes the next prepared device; stops the run when none are left (never reuses a key).
    func takeDevice() -> PreparedDevice {
        let index = nextDevice.withLock { value in
            defer { value += 1 }
            return value
        }
        require(index < devices.count, "the \(devices.count) prepared devices are used up; prepare more")
        return devices[index]
    }

    /// One enrollment through the API, as `vouch device enroll` does it: nonce, proof, enrollment.
    /// The answer must be 201 with the device's bundle; with `reading`, its certificate and status
    /// index are read out (the throughput benchmark leaves that client-side parsing out).
    @discardableResult
    func enroll(on connection: TestClient, reading: Bool = true) async throws -> Enrolled? {
        let device = takeDevice()
        let nonceAnswer = try await Self.call(connection, .post, "/v1/enrollments/nonce")
        guard let nonce = nonceAnswer.json["nonce"]?.stringValue else { fatalError("no nonce: \(nonceAnswer.text)") }
        let proof = try await PossessionProof(nonce: nonce, group: group).sign(with: device.key)
        let answer = try await Self.call(connection, .post, "/v1/enrollments", json: [
            "nonce": .string(nonce), "group": .string(group), "csr": .string(device.csr),
            "attestation": ["claimToken": .string(claimToken)], "proof": .string(proof),
        ], headers: Self.minimal)
        require(answer.status == .created, "the enrollment was refused: \(answer.text)")
        guard reading else {
            require(answer.body.contains(bytes: Self.identityCredentialKey), "the answer has no identity credential")
            return nil
        }
        let body = answer.json
        let identity = try CompactJWS(parsing: body["identityCredential"]?.stringValue ?? "")
        let status = try JSONValue(parsing: identity.payload)["credentialStatus"]?.arrayValue
            .first { $0["statusPurpose"]?.stringValue == "revocation" }
        return Enrolled(
            id: body["deviceId"]?.stringValue ?? "", certificatePEM: body["certificate"]?.stringValue ?? "",
            statusIndex: Int(status?["statusListIndex"]?.stringValue ?? "") ?? -1
        )
    }

    static let identityCredentialKey = Array(#""identityCredential":"#.utf8)

    /// Enrollment answers without log receipts: those wait for the next checkpoint (latency, not
    /// work), which a throughput figure leaves out.
    static let minimal: HTTPFields = [HTTPField.Name("Prefer")!: "return=minimal"]

    struct Answer: Sendable {
        let status: HTTPResponse.Status
        let body: [UInt8]
        var text: String { String(decoding: body, as: UTF8.self) }
        var json: JSONValue { (try? JSONValue(parsing: Data(body))) ?? .null }
    }

    static func call(
        _ connection: TestClient, _ method: HTTPRequest.Method, _ path: String, json: JSONValue? = nil, body: [UInt8]? = nil,
        contentType: String? = nil, bearer: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Answer {
        var headers = extra
        var buffer: ByteBuffer?
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            buffer = ByteBuffer(bytes: try encoder.encode(json))
            headers[.contentType] = "application/json"
        } else if let body {
            buffer = ByteBuffer(bytes: body)
            if let contentType { headers[.contentType] = contentType }
        }
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        let response = try await connection.execute(TestClient.Request(path, method: method, headers: headers, body: buffer))
        return Answer(status: response.status, body: response.body.map { Array($0.readableBytesView) } ?? [])
    }
}

extension [UInt8] {
    /// Whether `needle` occurs in these bytes: a plain scan, where the generic `firstRange(of:)`
    /// cost the client a twentieth of each enrollment.
    func contains(bytes needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        return withUnsafeBufferPointer { haystack in
            guard haystack.count >= needle.count else { return false }
            for start in 0...(haystack.count - needle.count) where haystack[start] == first {
                if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
            }
            return false
        }
    }
}

/// Stops the run when an operation gives the wrong answer, so that no figure measures a refusal.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}
