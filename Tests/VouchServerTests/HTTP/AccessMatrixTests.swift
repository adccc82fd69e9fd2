import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchKit

/// Every route an API key opens, with every kind of key and with none: the scope each needs is
/// stated here, independently of the server, and the server's own route list must match the table
/// (a new admin route without a row fails).
@Suite("API-key scopes on every route")
struct AccessMatrixTests {
    enum Scope: Int, CaseIterable, CustomStringConvertible {
        case gateway, readOnly, `operator`, admin
        var description: String { ["gateway", "read-only", "operator", "admin"][rawValue] }
    }

    /// The scope each route needs. `/v1/authorize` takes any key.
    static let required: [String: Scope] = [
        "POST /v1/admin/api-keys": .admin, "GET /v1/admin/api-keys": .admin, "DELETE /v1/admin/api-keys/{id}": .admin,
        "POST /v1/admin/groups": .operator, "GET /v1/admin/groups": .readOnly, "GET /v1/admin/groups/{id}": .readOnly,
        "PUT /v1/admin/groups/{id}": .operator, "POST /v1/admin/groups/{id}/disable": .operator, "POST /v1/admin/groups/{id}/enable": .operator,
        "GET /v1/admin/devices": .readOnly, "GET /v1/admin/devices/{id}": .readOnly, "POST /v1/admin/devices/{id}/{action}": .operator,
        "PATCH /v1/admin/devices/{id}": .operator, "GET /v1/admin/devices/{id}/telemetry": .readOnly,
        "POST /v1/admin/firmware": .operator, "GET /v1/admin/firmware": .readOnly, "POST /v1/admin/firmware/{sha256}/revoke": .operator,
        "GET /v1/admin/policy": .readOnly, "PUT /v1/admin/policy": .operator, "GET /v1/admin/policy/versions": .readOnly,
        "POST /v1/admin/webhooks": .admin, "GET /v1/admin/webhooks": .readOnly, "GET /v1/admin/webhooks/{id}": .readOnly,
        "PATCH /v1/admin/webhooks/{id}": .admin, "DELETE /v1/admin/webhooks/{id}": .admin, "POST /v1/admin/webhooks/{id}/test": .admin,
        "GET /v1/admin/webhooks/{id}/deliveries": .readOnly, "POST /v1/admin/webhooks/{id}/deliveries/{seq}/redeliver": .admin,
        "POST /v1/admin/webhooks/{id}/replay": .admin,
        "GET /v1/events": .readOnly, "GET /v1/events/stream": .readOnly, "GET /metrics": .readOnly, "POST /v1/authorize": .gateway,
        "GET /v1/gateway/devices": .gateway, "GET /v1/gateway/devices/{id}": .gateway, "GET /v1/gateway/policy": .gateway,
        "GET /v1/gateway/stream": .gateway, "POST /v1/gateway/reports": .gateway,
        "GET /v1/brokers/rabbitmq/user": .gateway, "POST /v1/brokers/rabbitmq/user": .gateway,
        "GET /v1/brokers/rabbitmq/vhost": .gateway, "POST /v1/brokers/rabbitmq/vhost": .gateway,
        "GET /v1/brokers/rabbitmq/resource": .gateway, "POST /v1/brokers/rabbitmq/resource": .gateway,
        "GET /v1/brokers/rabbitmq/topic": .gateway, "POST /v1/brokers/rabbitmq/topic": .gateway,
    ]

    /// Routes for enforcement points only: every other key is refused (its counts would move scores).
    static let gatewayOnly: Set<String> = [
        "POST /v1/gateway/reports", "GET /v1/brokers/rabbitmq/user", "POST /v1/brokers/rabbitmq/user", "GET /v1/brokers/rabbitmq/vhost",
        "POST /v1/brokers/rabbitmq/vhost", "GET /v1/brokers/rabbitmq/resource", "POST /v1/brokers/rabbitmq/resource",
        "GET /v1/brokers/rabbitmq/topic", "POST /v1/brokers/rabbitmq/topic",
    ]

    /// Routes whose granted answer never ends (a stream): only their refusals are asked for here;
    /// their own tests read them.
    static let endless: Set<String> = ["GET /v1/events/stream", "GET /v1/gateway/stream"]

    @Test func everyRouteRequiresItsScope() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin, routes in
                let keyed = Set(routes.filter { route in
                    ["/v1/admin/", "/v1/events", "/metrics", "/v1/authorize", "/v1/gateway/", "/v1/brokers/"].contains { route.split(separator: " ").last?.hasPrefix($0) == true }
                })
                #expect(keyed == Set(Self.required.keys), "routes without a row: \(keyed.subtracting(Self.required.keys)); rows without a route: \(Set(Self.required.keys).subtracting(keyed))")
                let fleet = PolicyFleet(client: client, admin: admin)
                var keys: [Scope: String] = [.admin: admin]
                for scope in [Scope.operator, .readOnly, .gateway] {
                    keys[scope] = try await fleet.apiKey("matrix-\(scope)", scope: scope.description)
                }
                for (route, needed) in Self.required.sorted(by: { $0.key < $1.key }) {
                    let parts = route.split(separator: " ")
                    let method = HTTPRequest.Method(String(parts[0]))!
                    let path = String(parts[1]).replacingOccurrences(of: "{id}", with: "nonexistent")
                        .replacingOccurrences(of: "{action}", with: "suspend").replacingOccurrences(of: "{sha256}", with: String(repeating: "0", count: 64))
                    let body: JSONValue? = method == .get || method == .delete ? nil : [:]
                    let anonymous = try await client.call(method, path, json: body)
                    expectProblem(anonymous, 401, "API key", sourceLocation: #_sourceLocation)
                    let unknown = try await client.call(method, path, json: body, apiKey: "vk_" + String(repeating: "A", count: 43))
                    expectProblem(unknown, 401, "unknown or revoked")
                    for scope in Scope.allCases {
                        if Self.endless.contains(route), scope.rawValue >= needed.rawValue { continue }
                        let answer = try await client.call(method, path, json: body, apiKey: keys[scope])
                        if Self.gatewayOnly.contains(route), scope != .gateway {
                            expectProblem(answer, 403, "gateway-scoped API key")
                        } else if scope.rawValue < needed.rawValue {
                            expectProblem(answer, 403, "this needs \(needed)")
                        } else {
                            #expect(answer.status != 401 && answer.status != 403, "\(route) with a \(scope) key: \(answer.status) \(answer.text)")
                        }
                    }
                }
            }
        }
    }

    /// A device's trust: any key that reads, or the device itself; a gateway key reads nothing.
    @Test func trustReadsNeedAReadingKeyOrTheDevice() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin, _ in
                let fleet = PolicyFleet(client: client, admin: admin)
                let (id, _) = try await fleet.enroll(group: "trust-matrix", zone: "lab", roles: [])
                let gateway = try await fleet.apiKey("gateway", scope: "gateway")
                let reader = try await fleet.apiKey("reader", scope: "read-only")
                expectProblem(try await client.call(.get, "/v1/devices/\(id)/trust", apiKey: gateway), 403, "this needs read-only")
                let read = try await client.call(.get, "/v1/devices/\(id)/trust", apiKey: reader)
                #expect(read.status == 200 && read.json["score"]?.numberValue == 100, "\(read.text)")
                expectProblem(try await client.call(.get, "/v1/devices/\(id)/trust"), 401, "authenticate as the device")
            }
        }
    }
}
