import Benchmark
import Crypto
import Foundation
import Synchronization
import VouchAPI
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
        let admin = server.admin()
        let policy = "zones: {line-3: {}}\nroles:\n  sensor:\n    allow: [\"publish:telemetry/${device.id}/#\"]\n"
        require(try await admin.uploadPolicy(policy).created, "the policy upload changed nothing")
        let group = try await admin.createGroup(GroupRequest(name: "sensors", unlimitedTokenUses: true, defaultZone: "line-3", defaultRoles: ["sensor"]))
        let claimToken = group.claimToken ?? ""
        var enrolled: [(id: String, key: SigningKey, client: VouchClient)] = []
        for _ in 0..<devices {
            let device = server.takeDevice()
            let answer = try await ServerFixture.enroll(device, on: connection, group: "sensors", claimToken: claimToken)
            let id = try answer.decode(EnrollmentBundle.self).deviceId
            // Tokens are bound to the device key: every request carries a DPoP proof (RFC 9449).
            enrolled.append((id, device.key, try await connection.authenticated(deviceId: id, agent: device.agent).client))
        }
        // Sign every iteration's envelopes now; each device's sequence rises across iterations.
        let accepted = Array(#""accepted":100,"#.utf8)
        let perDevice = perIteration / devices / batchSize
        // Every envelope is signed first; the requests, each with its own DPoP proof (valid for a
        // minute, used once), are made last, so that the proofs are fresh when the run starts.
        var bodies: [[(slot: Int, envelopes: [String])]] = []
        var sequence: UInt64 = 0
        for _ in 0..<iterations {
            var perConnection: [(slot: Int, envelopes: [String])] = []
            for _ in 0..<perDevice {
                for (slot, device) in enrolled.enumerated() {
                    let key = device.key
                    let did = DID(key: key.publicKey)
                    var envelopes: [String] = []
                    for offset in 1...UInt64(batchSize) {
                        let envelope = TelemetryEnvelope(
                            device: did, sequence: sequence + offset, topic: "telemetry/\(device.id)/temp", payload: Data("{\"t\":21.5,\"h\":40}".utf8))
                        envelopes.append(try await envelope.signed(with: key))
                    }
                    perConnection.append((slot, envelopes))
                }
                sequence += UInt64(batchSize)
            }
            bodies.append(perConnection)
        }
        var batches: [[PipelinedLoad.Request]] = []
        for iteration in bodies {
            var perConnection: [[PipelinedLoad.Request]] = Array(repeating: [], count: devices)
            for (slot, envelopes) in iteration {
                let request = try enrolled[slot].client.request("POST", "/v1/telemetry", body: .json(TelemetryUpload(envelopes: envelopes)))
                perConnection[slot].append(PipelinedLoad.Request(request, expected: accepted))
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
