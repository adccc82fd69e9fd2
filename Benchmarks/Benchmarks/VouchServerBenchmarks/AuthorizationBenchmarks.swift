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

let benchmarkPolicy = """
    zones:
      line-3: {}
      plant-ops: {}
    flows:
      - {from: line-3, to: plant-ops, allow: ["publish:telemetry/#"]}
    roles:
      sensor:
        allow:
          - publish:telemetry/${device.id}/#
          - subscribe:commands/${device.id}
          - read:firmware/${device.model}/*
        deny:
          - publish:telemetry/${device.id}/debug
      maintenance:
        statements:
          - {effect: allow, actions: [write], resources: ["config/${device.zone}/#"], conditions: {sourceAddresses: [10.0.0.0/8]}}
    """

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

/// A server with the benchmark policy and 100 enrolled devices, a pipelining load client, and
/// prepared requests with the answers they must get.
struct AuthorizationFixture: Sendable {
    static let connections = 16
    static let window = 16
    static let batch = 20_000

    let server: ServerFixture
    let load: PipelinedLoad
    let requests: [PipelinedLoad.Request]
    let healthz: [PipelinedLoad.Request]

    static func start() async throws -> AuthorizationFixture {
        let server = try await ServerFixture(devices: 100, connections: 1)
        let connection = server.connections[0]
        let admin = server.admin()
        require(try await admin.uploadPolicy(benchmarkPolicy).created, "the policy upload changed nothing")
        let group = try await admin.createGroup(
            GroupRequest(name: "sensors", unlimitedTokenUses: true, defaultZone: "line-3", defaultRoles: ["sensor", "maintenance"]))
        let token = group.claimToken ?? ""
        var ids: [String] = []
        for index in 0..<100 {
            let answer = try await ServerFixture.enroll(
                server.takeDevice(), on: connection, group: "sensors", claimToken: token, attributes: ["model": "t\(index % 7)"])
            ids.append(try answer.decode(EnrollmentBundle.self).deviceId)
        }
        var requests: [PipelinedLoad.Request] = []
        let allow = Array(#""decision":"allow""#.utf8)
        let deny = Array(#""decision":"deny""#.utf8)
        for (index, id) in ids.enumerated() {
            let peer = ids[(index + 1) % ids.count]
            let cases: [(AuthorizeBody, Bool)] = [
                (AuthorizeBody(subject: id, action: "publish", resource: "telemetry/\(id)/temp"), true),
                (AuthorizeBody(subject: id, action: "publish", resource: "telemetry/\(id)/debug"), false),
                (AuthorizeBody(subject: id, action: "subscribe", resource: "commands/+"), false),
                (AuthorizeBody(subject: id, action: "read", resource: "firmware/t\(index % 7)/fw.bin"), true),
                (AuthorizeBody(subject: id, action: "publish", resource: "telemetry/\(id)/temp", context: .init(peer: peer)), true),
                (AuthorizeBody(subject: id, action: "write", resource: "config/line-3/rate", context: .init(sourceAddress: "10.1.2.3")), true),
                (AuthorizeBody(subject: id, action: "delete", resource: "telemetry/\(id)/temp"), false),
                (AuthorizeBody(subject: id, action: "publish", resource: "telemetry/dev_x/temp"), false),
            ]
            for (body, allowed) in cases {
                requests.append(PipelinedLoad.Request(try admin.request("POST", "/v1/authorize", body: .json(body)), expected: allowed ? allow : deny))
            }
        }
        let healthz = [PipelinedLoad.Request(try connection.request("GET", "/healthz"), expected: Array("ok".utf8))]
        let load = try await PipelinedLoad(port: server.port, connections: connections)
        let fixture = AuthorizationFixture(server: server, load: load, requests: requests.shuffled(), healthz: healthz)
        onTeardown {
            await load.close()
            await server.stop()
        }
        return fixture
    }
}
