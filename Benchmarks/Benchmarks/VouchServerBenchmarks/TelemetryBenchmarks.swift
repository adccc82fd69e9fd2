import Benchmark
import Crypto
import Foundation
import HTTPTypes
import NIOCore
import Synchronization
import VouchKit

/// Telemetry ingest (`telemetry-ratios` in `authorization-ratios.sh` prints them):
///
/// - baseline: raw Ed25519 verifies of envelope-sized messages on every core at once, the work
///   ingest cannot avoid;
/// - `POST /v1/telemetry` in batches of 100 pre-signed envelopes from 16 devices, each on its own
///   keep-alive connection with 2 batches in flight; every envelope must be accepted.
///
/// Each iteration is 20,000 envelopes (verifies, for the baseline). Envelopes are signed in the
/// setup, with sequence numbers that rise across iterations, since the server refuses replays.
func telemetryBenchmarks() {
    let configuration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], tags: ["envelopes": String(TelemetryFixture.perIteration)], warmupIterations: 1,
        scalingFactor: .one, maxDuration: .seconds(60), maxIterations: TelemetryFixture.iterations - 1
    )

    Benchmark("telemetry baseline: raw Ed25519 verify on every core", configuration: configuration) { (_: Benchmark, samples: VerifySamples) in
        let cores = ProcessInfo.processInfo.activeProcessorCount
        await withTaskGroup(of: Void.self) { group in
            for core in 0..<cores {
                group.addTask {
                    for index in stride(from: core, to: TelemetryFixture.perIteration, by: cores) { samples.verify(index) }
                }
            }
        }
    } setup: {
        try await VerifySamples()
    }

    Benchmark("telemetry over HTTP: POST /v1/telemetry, batches of 100", configuration: configuration) { (_: Benchmark, fixture: TelemetryFixture) in
        let iteration = fixture.nextIteration()
        try await fixture.load.run(fixture.batches[iteration], count: fixture.batches[iteration].count, window: 2)
    } setup: {
        try await TelemetryFixture.start()
    } teardown: {
        await stopServers()
    }
}

/// Envelope-sized messages signed by several keys, verified with swift-crypto directly.
struct VerifySamples: Sendable {
    let keys: [Curve25519.Signing.PublicKey]
    let messages: [[UInt8]]
    let signatures: [Data]

    init() async throws {
        var keys: [Curve25519.Signing.PublicKey] = []
        var messages: [[UInt8]] = []
        var signatures: [Data] = []
        for index in 0..<256 {
            let key = Curve25519.Signing.PrivateKey()
            let message = Array((String(repeating: "x", count: 160) + "\(index)").utf8)
            keys.append(key.publicKey)
            messages.append(message)
            signatures.append(try key.signature(for: message))
        }
        self.keys = keys
        self.messages = messages
        self.signatures = signatures
    }

    func verify(_ index: Int) {
        let slot = index & 255
        require(keys[slot].isValidSignature(signatures[slot], for: messages[slot]), "a baseline signature does not verify")
    }
}

/// A server with 16 devices allowed to publish their telemetry, each with an access token and a
/// connection, and batches of envelopes signed ahead for every iteration.
final class TelemetryFixture: Sendable {
    static let devices = 16
    static let batchSize = 100
    static let perIteration = 20_000
    static let iterations = 8

    let server: ServerFixture
    let load: PipelinedLoad
    /// Per iteration, the prepared requests, spread so that each connection carries one device's.
    let batches: [[PipelinedLoad.Request]]
    private let iteration = Mutex(0)

    init(server: ServerFixture, load: PipelinedLoad, batches: [[PipelinedLoad.Request]]) {
        self.server = server
        self.load = load
        self.batches = batches
    }

    func nextIteration() -> Int {
        iteration.withLock { value in
            defer { value += 1 }
            require(value < batches.count, "the signed envelopes are used up; prepare more iterations")
            return value
        }
    }

    static func start() async throws -> TelemetryFixture {
        let server = try await ServerFixture(devices: devices, connections: 1)
        let connection = server.connections[0]
        let policy = "zones: {line-3: {}}\nroles:\n  sensor:\n    allow: [\"publish:telemetry/${device.id}/#\"]\n"
        let uploaded = try await ServerFixture.call(connection, .put, "/v1/admin/policy", body: Array(policy.utf8), contentType: "application/yaml", bearer: server.adminKey)
        require(uploaded.status == .created, "the policy upload failed: \(uploaded.text)")
        let group = try await ServerFixture.call(connection, .post, "/v1/admin/groups", json: [
            "name": "sensors", "unlimitedTokenUses": true, "defaultZone": "line-3", "defaultRoles": ["sensor"],
        ], bearer: server.adminKey)
        require(group.status == .created, "creating the group failed: \(group.text)")
        let claimToken = group.json["claimToken"]?.stringValue ?? ""
        var enrolled: [(id: String, key: SigningKey, token: String)] = []
        for _ in 0..<devices {
            let device = server.takeDevice()
            let nonce = try await ServerFixture.call(connection, .post, "/v1/enrollments/nonce").json["nonce"]?.stringValue ?? ""
            let proof = try await PossessionProof(nonce: nonce, group: "sensors").sign(with: device.key)
            let answer = try await ServerFixture.call(connection, .post, "/v1/enrollments", json: [
                "nonce": .string(nonce), "group": "sensors", "csr": .string(device.csr), "attestation": ["claimToken": .string(claimToken)],
                "proof": .string(proof),
            ], headers: ServerFixture.minimal)
            require(answer.status == .created, "the enrollment was refused: \(answer.text)")
            let id = answer.json["deviceId"]?.stringValue ?? ""
            let challenge = try await ServerFixture.call(connection, .post, "/v1/auth/challenge").json["nonce"]?.stringValue ?? ""
            let deviceProof = try await DeviceProof(nonce: challenge, deviceId: id, purpose: .authenticate).sign(with: device.key)
            // Tokens are bound to the device key: the request carries a DPoP proof (RFC 9449).
            let dpop = try DPoPProof.sign(method: "POST", url: "http://127.0.0.1:\(server.port)/v1/auth/token", key: device.key)
            let token = try await ServerFixture.call(
                connection, .post, "/v1/auth/token", json: ["nonce": .string(challenge), "proof": .string(deviceProof)],
                headers: [HTTPField.Name(DPoPProof.header)!: dpop])
            require(token.status == .ok, "the token request was refused: \(token.text)")
            enrolled.append((id, device.key, token.json["access_token"]?.stringValue ?? ""))
        }
        // Sign every iteration's envelopes now; each device's sequence rises across iterations.
        let accepted = Array(#""accepted":100,"#.utf8)
        let perDevice = perIteration / devices / batchSize
        // Every envelope is signed first; the requests, each with its own DPoP proof (valid for a
        // minute, used once), are made last, so that the proofs are fresh when the run starts.
        var bodies: [[(slot: Int, body: [UInt8])]] = []
        var sequence: UInt64 = 0
        for _ in 0..<iterations {
            var perConnection: [(slot: Int, body: [UInt8])] = []
            for _ in 0..<perDevice {
                for (slot, device) in enrolled.enumerated() {
                    let did = DID(key: device.key.publicKey)
                    var envelopes: [JSONValue] = []
                    for offset in 1...UInt64(batchSize) {
                        let envelope = TelemetryEnvelope(
                            device: did, sequence: sequence + offset, topic: "telemetry/\(device.id)/temp", payload: Data("{\"t\":21.5,\"h\":40}".utf8))
                        envelopes.append(.string(try await envelope.signed(with: device.key)))
                    }
                    perConnection.append((slot, JSONValue.object(["envelopes": .array(envelopes)]).canonicalJSON))
                }
                sequence += UInt64(batchSize)
            }
            bodies.append(perConnection)
        }
        var batches: [[PipelinedLoad.Request]] = []
        for iteration in bodies {
            var perConnection: [[PipelinedLoad.Request]] = Array(repeating: [], count: devices)
            for (slot, body) in iteration {
                let device = enrolled[slot]
                let proof = try DPoPProof.sign(method: "POST", url: "http://127.0.0.1:\(server.port)/v1/telemetry", accessToken: device.token, key: device.key)
                var bytes = ByteBuffer(string: "POST /v1/telemetry HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nAuthorization: DPoP \(device.token)\r\n"
                    + "DPoP: \(proof)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n")
                bytes.writeBytes(body)
                perConnection[slot].append(PipelinedLoad.Request(bytes: bytes, expected: accepted))
            }
            batches.append(perConnection.flatMap { $0 })
        }
        let load = try await PipelinedLoad(port: server.port, connections: devices)
        let fixture = TelemetryFixture(server: server, load: load, batches: batches)
        onTeardown {
            await load.close()
            await server.stop()
        }
        return fixture
    }
}
