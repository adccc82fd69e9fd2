import Benchmark
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore

/// The console's pages on a fleet of 100,000 devices in SQLite (`VOUCH_CONSOLE_DEVICES` for another
/// size; seeded by `ScaleData`), each fetched whole over one keep-alive connection by a signed-in
/// operator, beside `/healthz` on the same server in the same run (`console-ratios.sh` prints each
/// page's p50 and p99 and their ratio to it; target: p99 < 50 ms). Every answer must be 200 and the
/// page it names.
func consoleBenchmarks() {
    let devices = ProcessInfo.processInfo.environment["VOUCH_CONSOLE_DEVICES"].flatMap(Int.init) ?? 100_000
    let label = "\(devices.formatted()) devices"
    let pages: [(name: String, path: String, shows: String)] = [
        ("healthz (baseline)", "/healthz", "ok"),
        ("overview", "/console", "Fleet overview"),
        ("devices, first page", "/console/devices", "data-device=\"dev_seed"),
        ("devices, revoked", "/console/devices?state=revoked", "state-revoked"),
        ("devices, zone and state", "/console/devices?zone=zone-7&state=active", "data-device=\"dev_seed"),
        ("devices, by last change", "/console/devices?order=changed", "data-device=\"dev_seed"),
        ("devices, id prefix", "/console/devices?q=dev_seed4242", "data-device=\"dev_seed4242\""),
        ("devices, attribute no device has (a full scan)", "/console/devices?q=model%3Dnone", "No device matches"),
        ("device page", "/console/devices/dev_seed4242", "dev_seed4242"),
        ("groups", "/console/groups", "seed-a"),
        ("policy", "/console/policy", "Versions"),
        ("transparency log, entry with proof", "/console/log?entry=1", "data-proof="),
        ("events", "/console/events", "event-list"),
    ]
    for page in pages {
        Benchmark(
            "console: \(page.name), \(label)",
            configuration: Benchmark.Configuration(
                metrics: [.wallClock], warmupIterations: 5, scalingFactor: .one, maxDuration: .seconds(10), maxIterations: 300)
        ) { (benchmark: Benchmark, operator_: ConsoleOperator) in
            let (status, body) = try await operator_.get(page.path)
            require(status == 200 && body.contains(page.shows), "\(page.path) answered \(status) without \(page.shows): \(body.prefix(300))")
        } setup: {
            let seeded = try await ScaleData.shared(devices: devices, revokedShare: 0.01)
            let fixture = running(try await ServerFixture(devices: 0, connections: 1, dataDirectory: seeded.directory))
            return try await ConsoleOperator.signIn(port: fixture.port, key: fixture.adminKey)
        } teardown: {
            await stopServers()
        }
    }
}

/// A signed-in console session over one keep-alive connection.
struct ConsoleOperator: Sendable {
    let connection: TestClient
    let cookie: String

    static func signIn(port: Int, key: String) async throws -> ConsoleOperator {
        let connection = try await ConnectionTransport.connect(port: port)
        let form = try await connection.execute(TestClient.Request("/console/sign-in", method: .get))
        let page = String(buffer: form.body ?? ByteBuffer())
        guard let range = page.range(of: "name=\"token\" value=\"") else { fatalError("the sign-in page has no token") }
        let token = String(page[range.upperBound...].prefix { $0 != "\"" })
        let signInCookie = form.headers[values: .setCookie].first { $0.hasPrefix("vouch_console_signin=") }?.split(separator: ";")[0] ?? ""
        let body = "token=\(token)&key=\(key)&next=%2Fconsole"
        let answer = try await connection.execute(TestClient.Request(
            "/console/sign-in", method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded", .cookie: String(signInCookie)], body: ByteBuffer(string: body)))
        guard let session = answer.headers[values: .setCookie].first(where: { $0.hasPrefix("vouch_console=") })?.split(separator: ";")[0] else {
            fatalError("signing in to the console failed: \(answer.status)")
        }
        return ConsoleOperator(connection: connection, cookie: String(session))
    }

    func get(_ path: String) async throws -> (Int, String) {
        let answer = try await connection.execute(TestClient.Request(path, method: .get, headers: [.cookie: cookie]))
        return (Int(answer.status.code), String(buffer: answer.body ?? ByteBuffer()))
    }
}
