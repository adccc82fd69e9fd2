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
/// - over HTTP: `POST /v1/authorize` with an API key, 16 keep-alive connections, the same kind of
///   mix for 100 enrolled devices; beside `GET /healthz` on the same connections (the cost of HTTP
///   alone on this machine, in the same run).
func authorizationBenchmarks() {
    let batch = BenchmarkScalingFactor.kilo

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
        "authorization baseline: GET /healthz over HTTP, 16 connections",
        configuration: configuration(operations: batch, maxIterations: 20)
    ) { (benchmark: Benchmark, fixture: AuthorizationFixture) in
        try await fixture.run(benchmark.scaledIterations.count) { connection, _ in
            let answer = try await ServerFixture.call(connection, .get, "/healthz")
            require(answer.status == .ok, "healthz failed")
        }
    } setup: {
        try await AuthorizationFixture.start()
    } teardown: {
        await stopServers()
    }

    Benchmark(
        "authorization over HTTP: POST /v1/authorize, 16 connections",
        configuration: configuration(operations: batch, maxIterations: 20)
    ) { (benchmark: Benchmark, fixture: AuthorizationFixture) in
        try await fixture.run(benchmark.scaledIterations.count) { connection, index in
            let request = fixture.requests[index % fixture.requests.count]
            let answer = try await ServerFixture.call(
                connection, .post, "/v1/authorize", body: request.body, contentType: "application/json", bearer: fixture.server.adminKey)
            require(answer.status == .ok, "authorize failed: \(answer.text)")
            require(answer.body.contains(bytes: request.expected), "authorize answered \(answer.text), expected \(String(decoding: request.expected, as: UTF8.self))")
        }
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

/// A server with the benchmark policy and 100 enrolled devices, and pre-encoded authorize requests.
struct AuthorizationFixture: Sendable {
    struct Request: Sendable {
        let body: [UInt8]
        let expected: [UInt8]
    }

    let server: ServerFixture
    let requests: [Request]

    static func start() async throws -> AuthorizationFixture {
        let server = running(try await ServerFixture(devices: 100, connections: 16))
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
        var requests: [Request] = []
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
                requests.append(Request(body: body.canonicalJSON, expected: allowed ? allow : deny))
            }
        }
        return AuthorizationFixture(server: server, requests: requests.shuffled())
    }

    /// Runs `count` operations spread over the connections, each connection one at a time.
    func run(_ count: Int, _ operation: @escaping @Sendable (TestClient, Int) async throws -> Void) async throws {
        let connections = server.connections
        let perConnection = count / connections.count
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (slot, connection) in connections.enumerated() {
                group.addTask {
                    for step in 0..<perConnection { try await operation(connection, slot * perConnection + step) }
                }
            }
            try await group.waitForAll()
        }
    }
}
