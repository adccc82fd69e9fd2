import Benchmark
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
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
        let uploaded = try await ServerFixture.call(
            connection, .put, "/v1/admin/policy", body: Array(benchmarkPolicy.utf8), contentType: "application/yaml", bearer: server.adminKey)
        require(uploaded.status == .created, "the policy upload failed: \(uploaded.text)")
        let group = try await ServerFixture.call(connection, .post, "/v1/admin/groups", json: [
            "name": "sensors", "unlimitedTokenUses": true, "defaultZone": "line-3", "defaultRoles": ["sensor", "maintenance"],
        ], bearer: server.adminKey)
        require(group.status == .created, "creating the group failed: \(group.text)")
        let token = group.json["claimToken"]?.stringValue ?? ""
        var ids: [String] = []
        for index in 0..<100 {
            let device = server.takeDevice()
            let nonce = try await ServerFixture.call(connection, .post, "/v1/enrollments/nonce").json["nonce"]?.stringValue ?? ""
            let proof = try await PossessionProof(nonce: nonce, group: "sensors").sign(with: device.key)
            let answer = try await ServerFixture.call(connection, .post, "/v1/enrollments", json: [
                "nonce": .string(nonce), "group": "sensors", "csr": .string(device.csr), "attributes": ["model": .string("t\(index % 7)")],
                "attestation": ["claimToken": .string(token)], "proof": .string(proof),
            ], headers: ServerFixture.minimal)
            require(answer.status == .created, "the enrollment was refused: \(answer.text)")
            ids.append(answer.json["deviceId"]?.stringValue ?? "")
        }
        var requests: [PipelinedLoad.Request] = []
        let allow = Array(#""decision":"allow""#.utf8)
        let deny = Array(#""decision":"deny""#.utf8)
        for (index, id) in ids.enumerated() {
            let peer = ids[(index + 1) % ids.count]
            let cases: [(JSONValue, Bool)] = [
                (["subject": .string(id), "action": "publish", "resource": .string("telemetry/\(id)/temp")], true),
                (["subject": .string(id), "action": "publish", "resource": .string("telemetry/\(id)/debug")], false),
                (["subject": .string(id), "action": "subscribe", "resource": "commands/+"], false),
                (["subject": .string(id), "action": "read", "resource": .string("firmware/t\(index % 7)/fw.bin")], true),
                (["subject": .string(id), "action": "publish", "resource": .string("telemetry/\(id)/temp"), "context": ["peer": .string(peer)]], true),
                (["subject": .string(id), "action": "write", "resource": "config/line-3/rate", "context": ["sourceAddress": "10.1.2.3"]], true),
                (["subject": .string(id), "action": "delete", "resource": .string("telemetry/\(id)/temp")], false),
                (["subject": .string(id), "action": "publish", "resource": "telemetry/dev_x/temp"], false),
            ]
            for (body, allowed) in cases {
                let json = body.canonicalJSON
                var bytes = ByteBuffer(string: "POST /v1/authorize HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(server.adminKey)\r\n"
                    + "Content-Type: application/json\r\nContent-Length: \(json.count)\r\n\r\n")
                bytes.writeBytes(json)
                requests.append(PipelinedLoad.Request(bytes: bytes, expected: allowed ? allow : deny))
            }
        }
        let healthz = [PipelinedLoad.Request(bytes: ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"), expected: Array("ok".utf8))]
        let load = try await PipelinedLoad(port: server.port, connections: connections)
        let fixture = AuthorizationFixture(server: server, load: load, requests: requests.shuffled(), healthz: healthz)
        onTeardown {
            await load.close()
            await server.stop()
        }
        return fixture
    }
}
