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
/// - start-up: from starting the server on the data directory to its first `/healthz` answer;
/// - enrollments per second over HTTP (16 connections), authorization decisions over HTTP and
///   telemetry ingest (the fixtures of `VouchServerBenchmarks`, pipelined), each on devices enrolled
///   into the fleet;
/// - `GET /v1/admin/devices` pages with filters (state, group, zone and their pairs, first pages and
///   pages after a cursor);
/// - the process's resident memory after start-up and a few requests (all of it, and the part no file
///   backs: SQLite's pages are mapped, and those read count as resident while the kernel keeps
///   them), and what monitoring holds per device (`FleetMonitor` in process, devices observed once
///   and every minute for an hour and a half).
func benchmarks() {
    if ProcessInfo.processInfo.environment["VOUCH_CONSOLE_ONLY"] != nil {
        consoleBenchmarks()
        return
    }
    monitoringMemoryBenchmark()
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

        let enrollmentBatch = 500
        let enrollmentIterations = 6
        Benchmark(
            "scale: enrollments over HTTP, 16 connections, \(fleet.label)",
            configuration: Benchmark.Configuration(
                metrics: [.throughput, .wallClock], tags: ["ops": String(enrollmentBatch)], warmupIterations: 1,
                scalingFactor: .one, maxDuration: .seconds(60), maxIterations: enrollmentIterations)
        ) { (benchmark: Benchmark, fixture: ServerFixture) in
            try await fixture.enrollOnEveryConnection(enrollmentBatch)
        } setup: {
            try await running(ServerFixture(devices: (enrollmentIterations + 2) * enrollmentBatch, connections: 16, dataDirectory: try await directory()))
        } teardown: {
            await stopServers()
        }

        let httpConfiguration = Benchmark.Configuration(
            metrics: [.wallClock], tags: ["requests": String(AuthorizationFixture.batch)], warmupIterations: 1,
            scalingFactor: .one, maxDuration: .seconds(30), maxIterations: 10)
        Benchmark("scale: authorization over HTTP, pipelined, \(fleet.label)", configuration: httpConfiguration) {
            (_: Benchmark, fixture: AuthorizationFixture) in
            try await fixture.load.run(fixture.requests, count: AuthorizationFixture.batch, window: AuthorizationFixture.window)
        } setup: {
            try await AuthorizationFixture.start(dataDirectory: try await directory())
        } teardown: {
            await stopServers()
        }

        Benchmark(
            "scale: telemetry over HTTP, batches of 100, \(fleet.label)",
            configuration: Benchmark.Configuration(
                metrics: [.wallClock], tags: ["envelopes": String(TelemetryFixture.perIteration)], warmupIterations: 1,
                scalingFactor: .one, maxDuration: .seconds(60), maxIterations: TelemetryFixture.iterations - 1)
        ) { (_: Benchmark, fixture: TelemetryFixture) in
            let iteration = fixture.nextIteration()
            try await fixture.load.run(fixture.batches[iteration], count: fixture.batches[iteration].count, window: 2)
        } setup: {
            try await TelemetryFixture.start(dataDirectory: try await directory())
        } teardown: {
            await stopServers()
        }

        Benchmark(
            "scale: admin device pages with filters, \(fleet.label)",
            configuration: Benchmark.Configuration(
                metrics: [.wallClock], warmupIterations: 20, scalingFactor: .one, maxDuration: .seconds(20), maxIterations: 2_000)
        ) { (benchmark: Benchmark, pages: DevicePages) in
            try await pages.next()
        } setup: {
            let fixture = try await running(ServerFixture(devices: 0, connections: 1, dataDirectory: try await directory()))
            return try await DevicePages(fixture: fixture)
        } teardown: {
            await stopServers()
        }

        Benchmark(
            "scale: resident memory after start-up, \(fleet.label)",
            configuration: Benchmark.Configuration(
                metrics: [.custom("resident memory (MiB)", useScalingFactor: false), .custom("anonymous memory (MiB)", useScalingFactor: false)],
                warmupIterations: 0, scalingFactor: .one,
                maxDuration: .seconds(60), maxIterations: 1)
        ) { (benchmark: Benchmark, path: String?) in
            let fixture = try await ServerFixture(devices: 0, connections: 1, dataDirectory: path)
            for path in ["/healthz", "/readyz", "/v1/pki/crl", "/v1/status-lists/revocation-0"] {
                _ = try await fixture.connections[0].send("GET", path)
            }
            require(try await fixture.admin().devices(limit: 100).devices.count > 0 || path == nil, "the seeded fleet lists no device")
            benchmark.measurement(.custom("resident memory (MiB)", useScalingFactor: false), residentBytes() >> 20)
            benchmark.measurement(.custom("anonymous memory (MiB)", useScalingFactor: false), residentBytes("RssAnon") >> 20)
            await fixture.stop()
        } setup: {
            try await directory()
        }
    }
}

/// `GET /v1/admin/devices` as an operator pages through a fleet: each call takes the next of a
/// rotation of filters (none; state; group; zone; group and state; zone and state; group and zone),
/// first pages and the page after a cursor taken from the middle of the fleet's ids. Every answer
/// must be 200 with devices that match the filter.
final class DevicePages: Sendable {
    struct Query: Sendable {
        var state: String?
        var group: String?
        var zone: String?
        var after: String?
    }

    let fixture: ServerFixture
    let queries: [Query]
    /// Group ids by name (a device names its group by id).
    let groupIDs: [String: String]
    private let position = Mutex(0)

    init(fixture: ServerFixture) async throws {
        self.fixture = fixture
        let admin = fixture.admin()
        let existing = Set(try await admin.groups().map(\.name))
        for group in ScaleData.Seeded.groups where !existing.contains(group) {
            // On an empty database the seeded groups are made here, so that the same filters answer.
            _ = try await admin.createGroup(GroupRequest(name: group, unlimitedTokenUses: true))
        }
        groupIDs = Dictionary(try await admin.groups().map { ($0.name, $0.id) }, uniquingKeysWith: { first, _ in first })
        let filters = [
            Query(), Query(state: "revoked"), Query(state: "suspended"), Query(group: "seed-b"), Query(zone: "zone-7"),
            Query(state: "active", group: "seed-c"), Query(state: "revoked", zone: "zone-3"), Query(group: "seed-a", zone: "zone-4"),
            Query(state: "suspended", group: "seed-d"),
        ]
        queries = filters.flatMap { filter in
            [nil, "dev_seed5", "dev_seed77"].map { cursor in
                var query = filter
                query.after = cursor
                return query
            }
        }
    }

    func next() async throws {
        let index = position.withLock { value in
            defer { value += 1 }
            return value % queries.count
        }
        let query = queries[index]
        let page = try await fixture.admin().devices(state: query.state, group: query.group, zone: query.zone, after: query.after, limit: 100)
        let group = query.group.map { groupIDs[$0] }
        for device in page.devices {
            require(query.state == nil || device.state == query.state, "\(query) answered a device in state \(device.state)")
            require(group == nil || device.group == group, "\(query) answered a device of group \(device.group)")
            require(query.zone == nil || device.zone == query.zone, "\(query) answered a device in zone \(device.zone)")
            require(query.after.map { device.id > $0 } ?? true, "\(query) answered \(device.id), not after the cursor")
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
        listPath = device.statusListPath
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
        require(try bits.isSet(device.statusIndex), "the status list does not show the revocation")
    }
}
