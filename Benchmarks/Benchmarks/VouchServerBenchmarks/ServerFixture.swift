import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import SwiftASN1
import Synchronization
import VouchAPI
import VouchKit
import VouchServer
import X509

/// A `vouch serve` in this process, on a real socket (port 0) and a fresh SQLite data directory,
/// with `VouchClient`s over HTTP/1.1 keep-alive connections to it and devices whose keys and CSRs
/// are made in advance (key generation is the device's work, not the server's, and is left out of
/// every figure).
final class ServerFixture: Sendable {
    let dataDirectory: String
    let port: Int
    let adminKey: String
    /// One anonymous client per keep-alive connection.
    let connections: [VouchClient]
    /// The fixture's enrollment group, made at start (a data directory given may hold others).
    let group = "bench-" + UUID().uuidString.prefix(8).lowercased()
    /// Whether the data directory is the fixture's own, removed at stop.
    private let ownsDirectory: Bool
    let claimToken: String
    private let devices: [PreparedDevice]
    private let nextDevice = Mutex(0)
    private let server: Task<Void, any Error>
    private let sockets: [TestClient]

    struct PreparedDevice: Sendable {
        let agent: DeviceAgent
        let csr: String

        var key: SigningKey { agent.key }

        /// The enrollment request answering `nonce`: the prepared CSR and a fresh proof of possession.
        func request(nonce: String, group: String, claimToken: String, attributes: [String: String]? = nil) async throws -> EnrollmentRequest {
            EnrollmentRequest(
                nonce: nonce, group: group, csr: csr, attributes: attributes, attestation: .init(claimToken: claimToken),
                proof: try await agent.possessionProof(nonce: nonce, group: group))
        }
    }

    /// An enrolled device: what the benchmarks check revocation against.
    struct Enrolled: Sendable {
        let id: String
        let certificatePEM: String
        /// The revocation bit's position in its list, and the list's path.
        let statusIndex: Int
        let statusListPath: String
        let identityCredential: String?
    }

    /// Starts the server on `dataDirectory` (kept at stop), or on a fresh one of its own (removed).
    init(devices count: Int, connections connectionCount: Int, dataDirectory existing: String? = nil, allowPrivateWebhooks: Bool = false) async throws {
        dataDirectory = existing ?? FileManager.default.temporaryDirectory.appendingPathComponent("vouch-bench-\(UUID().uuidString)").path
        ownsDirectory = existing == nil
        var logger = Logger(label: "vouch-bench")
        logger.logLevel = .error
        var configuration = ServerConfiguration(port: 0, dataDirectory: dataDirectory, rateLimitPerMinute: 100_000_000)
        configuration.webhooks.allowPrivate = allowPrivateWebhooks
        let instance = try await buildApplication(configuration: configuration, logger: logger)
        port = instance.port
        let application = instance.application
        server = Task { try await application.runService() }
        adminKey = try String(contentsOfFile: dataDirectory + "/admin-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        devices = try (0..<count).map { _ in
            let agent = DeviceAgent(key: SigningKey.generate(.ed25519))
            return PreparedDevice(agent: agent, csr: try agent.certificateSigningRequestPEM())
        }
        var opened: [TestClient] = []
        for _ in 0..<connectionCount {
            opened.append(try await ConnectionTransport.connect(port: port))
        }
        sockets = opened
        connections = opened.map { VouchClient(transport: ConnectionTransport(connection: $0, port: instance.port)) }
        let created = try await connections[0].with(.apiKey(adminKey)).createGroup(GroupRequest(name: group, unlimitedTokenUses: true))
        guard let token = created.claimToken else { fatalError("no claim token for the group") }
        claimToken = token
    }

    /// The client of connection `index` with the admin key.
    func admin(_ index: Int = 0) -> VouchClient { connections[index].with(.apiKey(adminKey)) }

    func stop() async {
        for socket in sockets { try? await socket.shutdown() }
        server.cancel()
        _ = try? await server.value
        if ownsDirectory { try? FileManager.default.removeItem(atPath: dataDirectory) }
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

    /// One enrollment of the next prepared device through `client`, as `vouch device enroll` does
    /// it: nonce, proof, enrollment, without waiting for the log receipt (`Prefer: return=minimal`).
    /// The answer must be 201 with the device's bundle.
    static func enroll(
        _ device: PreparedDevice, on client: VouchClient, group: String, claimToken: String, attributes: [String: String]? = nil
    ) async throws -> VouchResponse {
        var minimal = client
        minimal.headers.append(("Prefer", "return=minimal"))
        let nonce = try await minimal.enrollmentNonce().nonce
        let request = try await device.request(nonce: nonce, group: group, claimToken: claimToken, attributes: attributes)
        let answer = try await minimal.exchange("POST", "/v1/enrollments", body: .json(request))
        require(answer.status == 201, "the enrollment was refused: \(answer.status) \(answer.text)")
        return answer
    }

    /// One enrollment in the fixture's group. With `reading`, the bundle is decoded and the
    /// certificate and status index read out (the throughput benchmark leaves that client-side
    /// parsing out and only looks for the identity credential).
    @discardableResult
    func enroll(on client: VouchClient, reading: Bool = true) async throws -> Enrolled? {
        let answer = try await Self.enroll(takeDevice(), on: client, group: group, claimToken: claimToken)
        guard reading else {
            require(answer.body.contains(bytes: Self.identityCredentialKey), "the answer has no identity credential")
            return nil
        }
        let bundle = try answer.decode(EnrollmentBundle.self)
        let identity = try Credential(payload: try CompactJWS(parsing: bundle.identityCredential ?? "").payload)
        let status = identity.status.first { $0.statusPurpose == "revocation" }
        return Enrolled(
            id: bundle.deviceId, certificatePEM: bundle.certificate ?? "", statusIndex: Int(status?.statusListIndex ?? "") ?? -1,
            statusListPath: URL(string: status?.statusListCredential ?? "")?.path ?? "", identityCredential: bundle.identityCredential)
    }

    static let identityCredentialKey = Array(#""identityCredential":"#.utf8)

    /// `count` enrollments spread evenly over every connection at once, none of them read back
    /// (the throughput benchmarks).
    func enrollOnEveryConnection(_ count: Int) async throws {
        let perConnection = count / connections.count
        try await withThrowingTaskGroup(of: Void.self) { group in
            for connection in connections {
                group.addTask {
                    for _ in 0..<perConnection { try await self.enroll(on: connection, reading: false) }
                }
            }
            try await group.waitForAll()
        }
    }

    /// The issuing CA's certificate, as a relying party fetches it.
    func intermediate() async throws -> Certificate {
        try Certificate(pemEncoded: try await connections[0].text("/v1/pki/intermediate.pem"))
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
