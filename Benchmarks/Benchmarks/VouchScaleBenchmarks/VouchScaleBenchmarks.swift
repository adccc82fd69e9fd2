import Benchmark
import Foundation
import SwiftASN1
import Synchronization
import VouchAPI
import VouchCore
import VouchKit
import X509

/// Figures that must not grow with the fleet, each measured on an empty database and on one seeded
/// with a large fleet (`ScaleData`: 1,000,000 devices with certificates, 1% revoked, unless
/// `VOUCH_SCALE_DEVICES` says otherwise), in the same run (`scale-ratios.sh` prints them side by side):
///
/// - revocation to visible: from the admin's revoke request to the CRL, OCSP and the status list all
///   showing it, one after the other, as a relying party would look;
/// - `/healthz` latency on its own connection while another connection enrolls and revokes devices
///   and reads the CRL, OCSP and status list after each revocation;
/// - start-up: from starting the server on the data directory to its first `/healthz` answer.
func benchmarks() {
    let seededDevices = ProcessInfo.processInfo.environment["VOUCH_SCALE_DEVICES"].flatMap(Int.init) ?? 1_000_000
    let fleets: [(label: String, devices: Int)] = [("empty database", 0), ("\(seededDevices.formatted()) devices", seededDevices)]

    for fleet in fleets {
        @Sendable func directory() async throws -> String? {
            guard fleet.devices > 0 else { return nil }
            return try await ScaleData.shared(devices: fleet.devices, revokedShare: 0.01).directory
        }

        let revocations = 200
        Benchmark(
            "scale: revocation to visible in CRL, OCSP and status list, \(fleet.label)",
            configuration: Benchmark.Configuration(
                metrics: [.wallClock], warmupIterations: 2, scalingFactor: .one, maxDuration: .seconds(30), maxIterations: revocations)
        ) { (benchmark: Benchmark, fixture: ServerFixture) in
            let connection = fixture.connections[0]
            let probe = try await RevocationProbe(fixture: fixture, on: connection)
            benchmark.startMeasurement()
            try await probe.revokeAndSee(on: connection)
            benchmark.stopMeasurement()
        } setup: {
            try await running(ServerFixture(devices: revocations + 10, connections: 1, dataDirectory: try await directory()))
        } teardown: {
            await stopServers()
        }

        Benchmark(
            "scale: healthz while revoking, \(fleet.label)",
            configuration: Benchmark.Configuration(
                metrics: [.wallClock], warmupIterations: 100, scalingFactor: .one, maxDuration: .seconds(15), maxIterations: 50_000)
        ) { (benchmark: Benchmark, fixture: ServerFixture) in
            let answer = try await fixture.connections[1].send("GET", "/healthz")
            require(answer.status == 200, "/healthz answered \(answer.status)")
        } setup: {
            let fixture = try await ServerFixture(devices: 3_000, connections: 2, dataDirectory: try await directory())
            // Revocations on connection 0 for as long as the benchmark runs (or the devices last).
            let revoking = Task {
                for _ in 0..<2_990 {
                    if Task.isCancelled { break }
                    let probe = try await RevocationProbe(fixture: fixture, on: fixture.connections[0])
                    try await probe.revokeAndSee(on: fixture.connections[0])
                }
            }
            onTeardown {
                revoking.cancel()
                _ = try? await revoking.value
            }
            return running(fixture)
        } teardown: {
            await stopServers()
        }

        Benchmark(
            "scale: start-up to first healthz, \(fleet.label)",
            configuration: Benchmark.Configuration(
                metrics: [.wallClock], warmupIterations: 0, scalingFactor: .one, maxDuration: .seconds(60), maxIterations: 3)
        ) { (benchmark: Benchmark, path: String?) in
            benchmark.startMeasurement()
            let fixture = try await ServerFixture(devices: 0, connections: 1, dataDirectory: path)
            let answer = try await fixture.connections[0].send("GET", "/healthz")
            benchmark.stopMeasurement()
            require(answer.status == 200, "/healthz answered \(answer.status)")
            await fixture.stop()
        } setup: {
            try await directory()
        }
    }
}

/// A device enrolled for revoking, and what a relying party asks about it.
struct RevocationProbe: Sendable {
    let device: ServerFixture.Enrolled
    let fixture: ServerFixture
    let serial: [UInt8]
    let ocspRequest: [UInt8]
    let listPath: String

    init(fixture: ServerFixture, on connection: VouchClient) async throws {
        guard let device = try await fixture.enroll(on: connection) else { fatalError("no enrollment answer") }
        self.device = device
        self.fixture = fixture
        let certificate = try Certificate(pemEncoded: device.certificatePEM)
        serial = Array(certificate.serialNumber.bytes)
        ocspRequest = try OCSPClient.request(serial: certificate.serialNumber, issuer: try await fixture.intermediate())
        listPath = "/v1/status-lists/revocation-\(device.statusIndex / BitstringStatusList.minimumSize)"
    }

    /// Revokes the device, then reads the CRL, OCSP and the status list, each of which must show it.
    func revokeAndSee(on connection: VouchClient) async throws {
        var admin = connection
        admin = admin.with(.apiKey(fixture.adminKey))
        require(try await admin.act(.revoke, on: device.id, reason: "key-compromise").device.state == "revoked", "the revocation failed")
        let crl = try await connection.bytes("/v1/pki/crl")
        require(crl.contains(bytes: serial), "the CRL does not list the revoked serial")
        let ocsp = try await connection.send("POST", "/v1/pki/ocsp", body: .bytes(ocspRequest, contentType: "application/ocsp-request"))
        let statuses = try OCSPClient.unverifiedStatuses(in: ocsp.body)
        guard case .revoked = statuses.first?.status else { fatalError("OCSP does not answer revoked: \(statuses)") }
        let list = try Credential(payload: try CompactJWS(parsing: try await connection.text(listPath)).payload)
        let bits = try BitstringStatusList(encodedList: list.json["credentialSubject"]?["encodedList"]?.stringValue ?? "")
        require(try bits.isSet(device.statusIndex % BitstringStatusList.minimumSize), "the status list does not show the revocation")
    }
}
