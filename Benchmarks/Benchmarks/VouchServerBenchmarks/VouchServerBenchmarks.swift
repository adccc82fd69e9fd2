import Benchmark
import Foundation
import HTTPTypes
import SwiftASN1
import Synchronization
import VouchAPI
import VouchCore
import VouchKit
import X509

/// The server's figures, each beside its in-process baseline from the same run (`server-ratios.sh`
/// prints them):
///
/// - enrollments per second through the HTTP API on SQLite (nonce, proof of possession, enrollment;
///   16 keep-alive connections; device key generation left out), beside the in-process cost of what
///   an enrollment must compute: CSR check, certificate issue, credential issue;
/// (Revocation to visible is measured by `VouchScaleBenchmarks`, on an empty and a seeded database.)
///
/// Server and clients share this machine's two cores, so the HTTP figure is what one box does for
/// both sides; a server with its own cores does better.
func benchmarks() {
    authorizationBenchmarks()
    telemetryBenchmarks()
    monitoringBenchmarks()
    revocationChannelBenchmarks()
    let enrollmentBatch = BenchmarkScalingFactor.kilo
    let httpIterations = 6

    Benchmark(
        "enrollment in process (baseline): CSR check + certificate + credential",
        configuration: configuration(operations: enrollmentBatch, maxIterations: 20)
    ) { (benchmark: Benchmark, issuer: InProcessIssuer) in
        for index in benchmark.scaledIterations {
            try await issuer.enroll(index)
        }
    } setup: {
        try await InProcessIssuer()
    }

    Benchmark(
        "enrollment over HTTP, SQLite, 16 connections",
        configuration: configuration(operations: enrollmentBatch, maxIterations: httpIterations)
    ) { (benchmark: Benchmark, fixture: ServerFixture) in
        try await fixture.enrollOnEveryConnection(benchmark.scaledIterations.count)
    } setup: {
        try await running(ServerFixture(devices: (httpIterations + 1) * enrollmentBatch.rawValue, connections: 16))
    } teardown: {
        await stopServers()
    }
}

func configuration(operations: BenchmarkScalingFactor, maxIterations: Int) -> Benchmark.Configuration {
    Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .mallocCountTotal],
        tags: ["ops": String(operations.rawValue)],
        warmupIterations: 1,
        scalingFactor: operations,
        maxDuration: .seconds(30),
        maxIterations: maxIterations
    )
}

/// What an enrollment computes, without HTTP or a database: parse and check the CSR, issue the
/// certificate, issue the identity credential with its two status entries.
struct InProcessIssuer: Sendable {
    let ca: CertificateAuthority
    let issuer: CredentialIssuer
    let csrs: [String]

    init() async throws {
        ca = try CertificateAuthority.bootstrap(name: "bench").0
        issuer = CredentialIssuer(key: SigningKey.generate(.ed25519))
        csrs = try (0..<256).map { _ in
            try SigningKey.generate(.ed25519).certificateSigningRequest(commonName: "bench").serializeAsPEM().pemString
        }
    }

    func enroll(_ index: Int) async throws {
        let csr = try CertificateSigningRequest(pemEncoded: csrs[index & 255])
        require(csr.publicKey.isValidSignature(csr.signature, for: csr), "the CSR's signature does not verify")
        let key = try PublicKey(certificateKey: csr.publicKey)
        let did = DID(key: key).description
        let id = "dev_\(index)"
        let now = Date()
        let certificate = try ca.issueDeviceCertificate(
            CertificateAuthority.DeviceProfile(
                deviceID: id, did: did, spiffeID: "spiffe://bench.example/device/\(id)", publicKey: csr.publicKey,
                notBefore: now, notAfter: now.addingTimeInterval(90 * 86_400), crlURL: "http://bench.example/v1/pki/crl",
                ocspURL: "http://bench.example/v1/pki/ocsp", issuerURL: "http://bench.example/v1/pki/intermediate.pem"
            )
        )
        blackHole(try certificate.serializeAsPEM().pemString)
        let status = [
            CredentialStatusEntry(listURL: "http://bench.example/v1/status-lists/revocation-0", index: index & 0xFFFF, purpose: .revocation),
            CredentialStatusEntry(listURL: "http://bench.example/v1/status-lists/suspension-0", index: index & 0xFFFF, purpose: .suspension),
        ]
        blackHole(
            try await issuer.issue(
                types: ["DeviceIdentityCredential"], subject: did,
                claims: ["deviceId": .string(id), "group": "bench", "zone": "default", "keyThumbprint": .string(key.thumbprint)],
                validFrom: now, validFor: 365 * 86_400, status: status
            )
        )
    }
}
