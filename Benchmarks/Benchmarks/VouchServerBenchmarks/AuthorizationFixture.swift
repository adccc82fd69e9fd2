import Foundation
import NIOCore
import VouchAPI
import VouchCore
import VouchKit

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

    /// Starts the server on `dataDirectory` (see `ServerFixture`); a directory used before keeps
    /// the policy it has if it is this one, and gets a group of its own.
    static func start(dataDirectory: String? = nil) async throws -> AuthorizationFixture {
        let server = try await ServerFixture(devices: 100, connections: 1, dataDirectory: dataDirectory)
        let connection = server.connections[0]
        let admin = server.admin()
        _ = try await admin.uploadPolicy(benchmarkPolicy)
        let group = try await admin.createGroup(
            GroupRequest(name: "sensors-" + server.group, unlimitedTokenUses: true, defaultZone: "line-3", defaultRoles: ["sensor", "maintenance"]))
        let token = group.claimToken ?? ""
        var ids: [String] = []
        for index in 0..<100 {
            let answer = try await ServerFixture.enroll(
                server.takeDevice(), on: connection, group: group.group.name, claimToken: token, attributes: ["model": "t\(index % 7)"])
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
