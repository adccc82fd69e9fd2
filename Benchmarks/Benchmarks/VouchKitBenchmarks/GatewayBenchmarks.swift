import Benchmark
import Crypto
import Foundation
import SwiftASN1
import VouchAPI
import VouchCore
import VouchGateway
import VouchKit
import X509

/// A broker gate (the Mosquitto plugin's decisions) with one device admitted on connection 1, a
/// policy giving it its own telemetry topics, and envelopes it signed for a signed topic.
struct GatewayFixture: @unchecked Sendable {
    let gate: BrokerGate
    let topic: String
    let envelopes: [[UInt8]]
    let counter = Counter()

    static let device = "dev_0123456789abcdef0123456789ab"

    static func make(envelopes count: Int) async throws -> GatewayFixture {
        let key = SigningKey.generate(.ed25519)
        let did = DID(key: key.publicKey)
        // A certificate naming the device, as the broker would hand it over after TLS.
        let caKey = P256.Signing.PrivateKey()
        let name = try DistinguishedName { CommonName(device) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(bytes: [0x01, 0x23, 0x45]), publicKey: key.publicKey.certificatePublicKey,
            notValidBefore: Date().addingTimeInterval(-60), notValidAfter: Date().addingTimeInterval(86_400), issuer: name, subject: name,
            signatureAlgorithm: .ecdsaWithSHA256, extensions: Certificate.Extensions(), issuerPrivateKey: .init(caKey))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let policy = try PolicyDocument(parsing: """
            roles:
              sensor:
                allow: ["publish:telemetry/${device.id}/#", "subscribe:commands/${device.id}/#", "receive:commands/${device.id}/#"]
            signed: ["telemetry/+/signed/#"]
            """)
        let gate = BrokerGate()
        gate.load(
            devices: [
                GatewayDevice(
                    id: device, did: did.description, state: "active", zone: "default", group: "bench", attributes: [:], roles: ["sensor"],
                    serials: ["012345"], publicKey: key.publicKey.jwk)
            ],
            policy: CompiledPolicy(version: 1, document: policy), sequence: 1)
        guard gate.admit(connection: 1, clientID: device, certificateDER: serializer.serializedBytes) == .admitted(device: device) else {
            fatalError("the benchmark device was not admitted")
        }
        let topic = "telemetry/\(device)/signed/temperature"
        var envelopes: [[UInt8]] = []
        envelopes.reserveCapacity(count)
        for sequence in 1...UInt64(count) {
            let token = try await TelemetryEnvelope(device: did, sequence: sequence, topic: topic, payload: Data("21.5".utf8)).signed(with: key)
            envelopes.append(Array(token.utf8))
        }
        return GatewayFixture(gate: gate, topic: topic, envelopes: envelopes)
    }
}

/// The Mosquitto plugin's hot paths: a decision on a cache hit (the issue's p99 target is 2 µs,
/// read from the per-check figure's wall-clock percentiles) and on a miss, and a message on a
/// signed topic (an Ed25519 verify each; target ≥ 0.8 of raw verify, the paired ratio).
func registerGatewayBenchmarks() {
    let topic = "telemetry/\(GatewayFixture.device)/temperature"
    // One check per iteration, so that the wall-clock percentiles are those of single decisions.
    Benchmark(
        "broker gate decision, cached (one check per iteration)",
        configuration: .init(
            metrics: [.wallClock, .throughput, .mallocCountTotal], warmupIterations: 1_000, scalingFactor: .one, maxDuration: .seconds(3),
            maxIterations: 200_000)
    ) { (benchmark: Benchmark, fixture: GatewayFixture) in
        require(fixture.gate.check(1, BrokerGate.Access.publish, topic: topic), "the cached decision is a denial")
    } setup: {
        let fixture = try await GatewayFixture.make(envelopes: 1)
        _ = fixture.gate.check(1, .publish, topic: topic)
        return fixture
    }

    pairedBenchmark("broker gate decision, cached", operationsPerIteration: .kilo, setup: {
        let fixture = try await GatewayFixture.make(envelopes: 1)
        _ = fixture.gate.check(1, .publish, topic: topic)
        return fixture
    }) { (benchmark: Benchmark, fixture: GatewayFixture) in
        for _ in benchmark.scaledIterations {
            require(fixture.gate.check(1, .publish, topic: topic), "the cached decision is a denial")
        }
    }

    // A new topic every time: the decision is made (Authorizer.decide), then cached.
    pairedBenchmark("broker gate decision, not cached", operationsPerIteration: .kilo, setup: {
        try await GatewayFixture.make(envelopes: 1)
    }) { (benchmark: Benchmark, fixture: GatewayFixture) in
        for _ in benchmark.scaledIterations {
            let next = fixture.counter.next()
            require(fixture.gate.check(1, .publish, topic: "telemetry/\(GatewayFixture.device)/t\(next)"), "the decision is a denial")
        }
    }

    let iterations = 20
    pairedBenchmark("broker gate signed message", maxIterations: iterations, setup: {
        try await GatewayFixture.make(envelopes: (BenchmarkSettings.warmupIterations + iterations + 1) * 1_000)
    }) { (benchmark: Benchmark, fixture: GatewayFixture) in
        for _ in benchmark.scaledIterations {
            let envelope = fixture.envelopes[fixture.counter.next()]
            let verdict = envelope.withUnsafeBytes { fixture.gate.message(1, topic: fixture.topic, payload: $0) }
            require(verdict == .passed, "the envelope was dropped: \(verdict)")
        }
    }
}
