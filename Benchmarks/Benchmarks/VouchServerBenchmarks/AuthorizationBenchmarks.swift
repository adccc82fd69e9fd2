import Benchmark
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import VouchAPI
import VouchCore
import VouchKit

/// Authorization decisions (`authorization-ratios.sh` prints them):
///
/// - in process: `Authorizer.decide` over 10,000 devices' compiled subjects, as the server's
///   device directory holds them, on a mix of allowed, denied, explicitly denied, zone-crossing
///   and conditional requests;
/// - over HTTP: `POST /v1/authorize` with an API key, the same kind of mix for 100 enrolled
///   devices, from a lean client (`PipelinedLoad`: 16 keep-alive connections, 16 requests in flight
///   on each); beside `GET /healthz` the same way (the cost of HTTP alone on this machine, in the
///   same run). Each iteration is a batch of 20,000 requests.
func authorizationBenchmarks() {
    // Each iteration is one batch of requests; the per-request figures are wall clock / batch.
    let httpConfiguration = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], tags: ["requests": String(AuthorizationFixture.batch)], warmupIterations: 1,
        scalingFactor: .one, maxDuration: .seconds(30), maxIterations: 15
    )

    Benchmark(
        "authorization in process: Authorizer over 10,000 devices",
        configuration: configuration(operations: .mega, maxIterations: 20)
    ) { (benchmark: Benchmark, fleet: InProcessFleet) in
        var allowed = 0
        for index in benchmark.scaledIterations {
            if fleet.decide(index).allowed { allowed += 1 }
        }
        blackHole(allowed)
    } setup: {
        try InProcessFleet(devices: 10_000)
    }

    Benchmark(
        "authorization baseline: GET /healthz over HTTP, pipelined",
        configuration: httpConfiguration
    ) { (_: Benchmark, fixture: AuthorizationFixture) in
        try await fixture.load.run(fixture.healthz, count: AuthorizationFixture.batch, window: AuthorizationFixture.window)
    } setup: {
        try await AuthorizationFixture.start()
    } teardown: {
        await stopServers()
    }

    Benchmark(
        "authorization over HTTP: POST /v1/authorize, pipelined",
        configuration: httpConfiguration
    ) { (_: Benchmark, fixture: AuthorizationFixture) in
        try await fixture.load.run(fixture.requests, count: AuthorizationFixture.batch, window: AuthorizationFixture.window)
    } setup: {
        try await AuthorizationFixture.start()
    } teardown: {
        await stopServers()
    }
}

/// Compiled subjects for a fleet, and a rotating mix of requests with their expected answers.
struct InProcessFleet: Sendable {
    let zones: ZoneRules
    let subjects: [AuthorizationSubject]
    /// Per device, requests and whether each is allowed.
    let requests: [[(AuthorizationRequest, Bool)]]

    init(devices count: Int) throws {
        let policy = CompiledPolicy(version: 1, document: try PolicyDocument(parsing: benchmarkPolicy))
        zones = policy.zoneRules
        var subjects: [AuthorizationSubject] = []
        var requests: [[(AuthorizationRequest, Bool)]] = []
        let inside = AuthorizationContext(sourceAddress: IPAddress("10.1.2.3"))
        let ops = AuthorizationContext(peer: "ops", peerZone: "plant-ops")
        for index in 0..<count {
            let id = "dev_\(index)"
            let facts = DeviceFacts(
                id: id, did: "did:key:z\(index)", zone: "line-3", group: "sensors", attributes: ["model": "t\(index % 7)"],
                roles: ["sensor", "maintenance"], quarantined: false)
            subjects.append(policy.subject(for: facts))
            requests.append([
                (try AuthorizationRequest(action: "publish", resource: "telemetry/\(id)/temp"), true),
                (try AuthorizationRequest(action: "publish", resource: "telemetry/\(id)/debug"), false),
                (try AuthorizationRequest(action: "subscribe", resource: "commands/+"), false),
                (try AuthorizationRequest(action: "read", resource: "firmware/t\(index % 7)/fw.bin"), true),
                (try AuthorizationRequest(action: "publish", resource: "telemetry/\(id)/temp", context: ops), true),
                (try AuthorizationRequest(action: "write", resource: "config/line-3/rate", context: inside), true),
                (try AuthorizationRequest(action: "delete", resource: "telemetry/\(id)/temp"), false),
                (try AuthorizationRequest(action: "publish", resource: "telemetry/dev_x/temp"), false),
            ])
        }
        self.subjects = subjects
        self.requests = requests
    }

    func decide(_ index: Int) -> AuthorizationDecision {
        let device = (index &* 7919) % subjects.count
        let (request, expected) = requests[device][index & 7]
        let decision = Authorizer.decide(request, for: subjects[device], zones: zones)
        require(decision.allowed == expected, "\(request) was decided \(decision.allowed)")
        return decision
    }
}
