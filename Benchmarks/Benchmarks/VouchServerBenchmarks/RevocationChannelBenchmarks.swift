import Benchmark
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SwiftASN1
import Synchronization
import VouchAPI
import VouchCore
import VouchKit
import X509

/// One revocation, every channel: for each channel, devices are revoked one at a time (200) and
/// the time is taken from the start of the revoke request until the revocation is visible there —
/// the CRL and OCSP answering revoked, the status list's bit set (each read once the revoke is
/// answered), the event stream's and the revocation stream's frame arriving, and a local webhook
/// receiver getting the delivery with its signature verified. The baseline, in the same run, is one
/// `/healthz` round trip on the same connection. `revocation-channels.sh` prints p50 and p99.
func revocationChannelBenchmarks() {
    let revocations = 200
    for channel in RevocationChannel.allCases {
        Benchmark(
            "revocation visible: \(channel.rawValue)",
            configuration: Benchmark.Configuration(
                metrics: [.wallClock], warmupIterations: 2, scalingFactor: .one, maxDuration: .seconds(120), maxIterations: revocations)
        ) { (benchmark: Benchmark, watch: ChannelWatch) in
            let connection = watch.fixture.connections[0]
            guard let device = try await watch.fixture.enroll(on: connection) else { fatalError("no enrollment answer") }
            let certificate = try Certificate(pemEncoded: device.certificatePEM)
            let serial = Array(certificate.serialNumber.bytes)
            let ocspRequest = try OCSPClient.request(serial: certificate.serialNumber, issuer: watch.intermediate)
            benchmark.startMeasurement()
            let answer = try await watch.fixture.admin().act(.revoke, on: device.id, reason: "key-compromise")
            require(answer.device.state == "revoked", "the revocation failed")
            switch channel {
            case .crl:
                require(try await connection.bytes("/v1/pki/crl").contains(bytes: serial), "the CRL does not list the revoked serial")
            case .ocsp:
                let ocsp = try await connection.send("POST", "/v1/pki/ocsp", body: .bytes(ocspRequest, contentType: "application/ocsp-request"))
                guard case .revoked = try OCSPClient.unverifiedStatuses(in: ocsp.body).first?.status else { fatalError("OCSP does not answer revoked") }
            case .statusList:
                let list = try Credential(payload: try CompactJWS(parsing: try await connection.text(device.statusListPath)).payload)
                let bits = try BitstringStatusList(encodedList: list.json["credentialSubject"]?["encodedList"]?.stringValue ?? "")
                require(try bits.isSet(device.statusIndex), "the status list does not show the revocation")
            case .eventStream, .revocationStream, .webhook:
                await watch.arrivals.wait(for: device.id)
            }
            benchmark.stopMeasurement()
        } setup: {
            let watch = try await ChannelWatch.start(channel, devices: revocations + 10)
            onTeardown { await watch.stop() }
            return watch
        } teardown: {
            await stopServers()
        }
    }

    Benchmark(
        "revocation visible: baseline, one /healthz round trip",
        configuration: Benchmark.Configuration(
            metrics: [.wallClock], warmupIterations: 10, scalingFactor: .one, maxDuration: .seconds(30), maxIterations: revocations)
    ) { (benchmark: Benchmark, fixture: ServerFixture) in
        let answer = try await fixture.connections[0].send("GET", "/healthz")
        require(answer.status == 200, "/healthz answered \(answer.status)")
    } setup: {
        try await running(ServerFixture(devices: 0, connections: 1))
    } teardown: {
        await stopServers()
    }
}

enum RevocationChannel: String, CaseIterable, Sendable {
    case crl = "CRL"
    case ocsp = "OCSP"
    case statusList = "status list"
    case eventStream = "event stream"
    case revocationStream = "revocation stream"
    case webhook = "webhook, signature verified"
}

/// Devices whose revocation has been seen on a push channel, and those waiting for it.
final class Arrivals: Sendable {
    private let state = Mutex<(seen: Set<String>, waiting: [String: CheckedContinuation<Void, Never>])>(([], [:]))

    func arrive(_ id: String) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.seen.insert(id)
            return state.waiting.removeValue(forKey: id)
        }
        waiter?.resume()
    }

    func wait(for id: String) async {
        await withCheckedContinuation { continuation in
            let seen = state.withLock { state -> Bool in
                if state.seen.contains(id) { return true }
                state.waiting[id] = continuation
                return false
            }
            if seen { continuation.resume() }
        }
    }
}

/// A server, and a listener on the channel measured: an event stream, a revocation stream, or a
/// webhook receiver on this machine that verifies each delivery's signature.
final class ChannelWatch: Sendable {
    let fixture: ServerFixture
    let intermediate: Certificate
    let arrivals = Arrivals()
    private let listeners: Mutex<[Task<Void, any Error>]> = Mutex([])

    private init(fixture: ServerFixture, intermediate: Certificate) {
        self.fixture = fixture
        self.intermediate = intermediate
    }

    static func start(_ channel: RevocationChannel, devices: Int) async throws -> ChannelWatch {
        let fixture = try await ServerFixture(devices: devices, connections: 1, allowPrivateWebhooks: true)
        let watch = ChannelWatch(fixture: fixture, intermediate: try await fixture.intermediate())
        let server = "http://127.0.0.1:\(fixture.port)"
        let arrivals = watch.arrivals
        switch channel {
        case .crl, .ocsp, .statusList:
            break
        case .eventStream, .revocationStream:
            // Connected (the stream's first comment) before the first revocation.
            let connected = AsyncStream<Void>.makeStream()
            let events = channel == .eventStream
            let frames = try EventStreamClient(server: server, apiKey: events ? fixture.adminKey : nil)
                .frames(path: events ? "/v1/events/stream?kind=device.revoked" : "/v1/revocations/stream", comments: true)
            watch.listen {
                for try await frame in frames {
                    if frame.comment != nil {
                        connected.continuation.yield()
                    } else if events {
                        if let subject = (try? JSONValue(parsing: Data(frame.data.utf8)))?["subject"]?.stringValue { arrivals.arrive(subject) }
                    } else if frame.event == "revocation" {
                        let decoded = try JSONDecoder().decode(RevocationFrame.self, from: Data(frame.data.utf8))
                        for certificate in decoded.certificates where certificate.state == "revoked" { arrivals.arrive(certificate.device) }
                    }
                }
            }
            var signals = connected.stream.makeAsyncIterator()
            _ = await signals.next()
        case .webhook:
            let secretBox = Mutex<StandardWebhook.Secret?>(nil)
            let ready = AsyncStream<Int>.makeStream()
            let router = Router()
            router.post("/hook") { request, _ -> Response in
                let body = Array((try await request.body.collect(upTo: 1 << 20)).readableBytesView)
                let header = { (name: String) in request.headers[HTTPField.Name(name)!] }
                guard let secret = secretBox.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
                do {
                    try StandardWebhook.Verifier(secrets: [secret]).verify(
                        id: header("webhook-id"), timestamp: header("webhook-timestamp"), signatures: header("webhook-signature"), body: body)
                } catch {
                    fatalError("a webhook delivery did not verify: \(error)")
                }
                if let subject = (try? JSONValue(parsing: Data(body)))?["data"]?["subject"]?.stringValue { arrivals.arrive(subject) }
                return Response(status: .noContent)
            }
            var logger = Logger(label: "bench-receiver")
            logger.logLevel = .critical
            let application = Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                onServerRunning: { ready.continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
            watch.listen { try await application.runService() }
            var ports = ready.stream.makeAsyncIterator()
            guard let port = await ports.next(), port > 0 else { fatalError("the webhook receiver did not start") }
            let created = try await fixture.admin().createWebhook(WebhookRequest(url: "http://127.0.0.1:\(port)/hook", kinds: ["device.revoked"]))
            secretBox.withLock { $0 = try? StandardWebhook.Secret(serialized: created.secret ?? "") }
        }
        return watch
    }

    private func listen(_ body: @escaping @Sendable () async throws -> Void) {
        listeners.withLock { $0.append(Task { try await body() }) }
    }

    func stop() async {
        for task in listeners.withLock({ $0 }) { task.cancel() }
        await fixture.stop()
    }
}
