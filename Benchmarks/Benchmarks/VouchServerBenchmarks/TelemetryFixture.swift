import Foundation
import Synchronization
import VouchAPI
import VouchKit

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

    /// Starts the server on `dataDirectory` (see `ServerFixture`) with the benchmark policy, whose
    /// `sensor` role publishes its own telemetry; the devices join a group of their own.
    static func start(dataDirectory: String? = nil) async throws -> TelemetryFixture {
        let server = try await ServerFixture(devices: devices, connections: 1, dataDirectory: dataDirectory)
        let connection = server.connections[0]
        let admin = server.admin()
        _ = try await admin.uploadPolicy(benchmarkPolicy)
        let group = try await admin.createGroup(
            GroupRequest(name: "sensors-" + server.group, unlimitedTokenUses: true, defaultZone: "line-3", defaultRoles: ["sensor"]))
        let claimToken = group.claimToken ?? ""
        var enrolled: [(id: String, key: SigningKey, client: VouchClient)] = []
        for _ in 0..<devices {
            let device = server.takeDevice()
            let answer = try await ServerFixture.enroll(device, on: connection, group: group.group.name, claimToken: claimToken)
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
