import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchCore
import VouchKit
import VouchServer

@Suite("RabbitMQ's HTTP auth backend (/v1/brokers/rabbitmq)")
struct RabbitMQEndpointTests {
    /// Asks as RabbitMQ does: a form by POST (its http_method = post), or a query by GET.
    static func ask(
        _ client: any TestClientProtocol, _ question: String, _ fields: [(String, String)], key: String?, get: Bool = false
    ) async throws -> HTTPResult {
        let form = fields.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.1)" }.joined(separator: "&")
        if get { return try await client.call(.get, "/v1/brokers/rabbitmq/\(question)?\(form)", apiKey: key) }
        return try await client.call(
            .post, "/v1/brokers/rabbitmq/\(question)", apiKey: key, headers: [.contentType: "application/x-www-form-urlencoded"], body: Array(form.utf8))
    }

    @Test func eachQuestionIsAnsweredAsTheServerDecidesForTheDevice() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(mqttPolicyYAML).status == 201)
                let (sensor, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"])
                let (other, _) = try await fleet.enroll(group: "others", zone: "line-3", roles: ["sensor"])
                let gateway = try await fleet.apiKey("rabbitmq", scope: "gateway")
                func answer(_ question: String, _ fields: [(String, String)], get: Bool = false) async throws -> String {
                    let result = try await Self.ask(client, question, fields, key: gateway, get: get)
                    #expect(result.status == 200 && result.headers[.contentType] == "text/plain; charset=utf-8", "\(result.text)")
                    return result.text
                }
                // user: a device by its certificate; never a password.
                #expect(try await answer("user", [("username", sensor)]) == "allow")
                #expect(try await answer("user", [("username", sensor), ("password", "guess")]) == "deny")
                #expect(try await answer("user", [("username", "dev_unknown")]) == "deny")
                #expect(try await answer("user", [("username", "guest")], get: true) == "deny")
                // vhost: the devices' one, under the device's own client id.
                #expect(try await answer("vhost", [("username", sensor), ("vhost", "/"), ("ip", "127.0.0.1"), ("client_id", sensor)]) == "allow")
                #expect(try await answer("vhost", [("username", sensor), ("vhost", "/"), ("client_id", sensor + "-logger")]) == "allow")
                #expect(try await answer("vhost", [("username", sensor), ("vhost", "/"), ("client_id", other)]) == "deny")
                #expect(try await answer("vhost", [("username", sensor), ("vhost", "other")]) == "deny")
                // resource: its session queue and amq.topic, nothing else.
                let base = [("username", sensor), ("vhost", "/")]
                #expect(try await answer("resource", base + [("resource", "queue"), ("name", "mqtt-subscription-\(sensor)qos1"), ("permission", "configure")]) == "allow")
                #expect(try await answer("resource", base + [("resource", "queue"), ("name", "mqtt-subscription-\(other)qos1"), ("permission", "read")]) == "deny")
                #expect(try await answer("resource", base + [("resource", "exchange"), ("name", "amq.topic"), ("permission", "write")]) == "allow")
                #expect(try await answer("resource", base + [("resource", "exchange"), ("name", "amq.topic"), ("permission", "configure")]) == "deny")
                #expect(try await answer("resource", base + [("resource", "exchange"), ("name", "amq.fanout"), ("permission", "write")]) == "deny")
                // topic: the routing key is the MQTT topic; read needs subscribe and receive.
                let topic = base + [("resource", "topic"), ("name", "amq.topic")]
                #expect(try await answer("topic", topic + [("permission", "write"), ("routing_key", "telemetry.\(sensor).temperature")]) == "allow")
                #expect(try await answer("topic", topic + [("permission", "write"), ("routing_key", "telemetry.\(sensor).debug")]) == "deny")
                #expect(try await answer("topic", topic + [("permission", "write"), ("routing_key", "telemetry.\(other).temperature")]) == "deny")
                #expect(try await answer("topic", topic + [("permission", "read"), ("routing_key", "commands.\(sensor).#")]) == "allow")
                #expect(try await answer("topic", topic + [("permission", "read"), ("routing_key", "commands.*.reboot")]) == "deny")
                #expect(try await answer("topic", topic + [("permission", "write"), ("routing_key", "telemetry/\(sensor)")]) == "deny")
                // The denials count against the device, as an enforcement point's do.
                let device = try await client.call(.get, "/v1/admin/devices/\(sensor)", apiKey: admin)
                #expect(device.json["activity"]?["metrics"]?["policy_denials"]?["1m"] == 3, "the three topic denials: \(device.text)")
                // Lifecycle: a suspended device is refused at every question.
                #expect(try await client.call(.post, "/v1/admin/devices/\(sensor)/suspend", apiKey: admin).status == 200)
                #expect(try await answer("user", [("username", sensor)]) == "deny")
                #expect(try await answer("topic", topic + [("permission", "write"), ("routing_key", "telemetry.\(sensor).temperature")]) == "deny")

                // Who may ask: a gateway key (or an allowed source); not another key, not nobody.
                expectProblem(try await Self.ask(client, "user", [("username", other)], key: nil), 401, "--rabbitmq-source")
                expectProblem(try await Self.ask(client, "user", [("username", other)], key: admin), 403, "gateway-scoped")
                expectProblem(try await Self.ask(client, "user", [], key: gateway), 400, "username is missing")
                let malformed = try await client.call(
                    .post, "/v1/brokers/rabbitmq/user", apiKey: gateway, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: Array("username=%zz".utf8))
                expectProblem(malformed, 400, "x-www-form-urlencoded")
            }
        }
    }

    @Test func anAllowedSourceAsksWithoutAKey() async throws {
        var settings = RabbitMQSettings()
        settings.sources = [try IPAddressRange("127.0.0.1/32")]
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, rabbitMQ: settings) { client, admin, _ in
                let fleet = PolicyFleet(client: client, admin: admin)
                let (sensor, _) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"])
                let asked = try await Self.ask(client, "user", [("username", sensor)], key: nil)
                #expect(asked.status == 200 && asked.text == "allow", "\(asked.text)")
            }
        }
    }
}
