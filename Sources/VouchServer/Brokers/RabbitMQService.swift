import Foundation
import VouchCore
import VouchKit
import VouchStore

/// The answers RabbitMQ's HTTP auth backend (`rabbitmq_auth_backend_http`) asks for, for devices
/// connecting with MQTT and the certificate Vouch issued them (`ssl_cert_login`, the common name
/// as username: the device id), decided as `POST /v1/authorize` decides:
///
/// - `user`: a device that may act, logging in by its certificate (a password is refused: devices
///   have none);
/// - `vhost`: the configured virtual host, from a device that may act, under a client id that is
///   its id (or the id, a dash and a suffix), so that no device takes over another's session;
/// - `resource`: the MQTT plugin's own queue of the device's session (`mqtt-subscription-ID…`) and
///   the `amq.topic` exchange it publishes to and binds on; nothing else;
/// - `topic`: the routing key turned back into the MQTT topic (`.` → `/`, `*` → `+`); `write` is a
///   publish, `read` (a subscription's binding) needs both subscribe and receive.
///
/// Denials count against the device in monitoring, as an enforcement point's do.
final class RabbitMQService: Sendable {
    let policy: PolicyService
    let directory: DirectoryService
    let settings: RabbitMQSettings

    init(policy: PolicyService, directory: DirectoryService, settings: RabbitMQSettings) {
        self.policy = policy
        self.directory = directory
        self.settings = settings
    }

    /// What RabbitMQ sends: form fields (or query parameters).
    typealias Fields = [String: String]

    enum Question: String, CaseIterable, Sendable {
        case user, vhost, resource, topic
    }

    /// The answer to `question`: allow or deny (with why, for the log).
    func answer(_ question: Question, _ fields: Fields) async throws -> (allowed: Bool, why: String) {
        guard let username = fields["username"], !username.isEmpty, username.utf8.count <= 256 else {
            throw ServiceError.invalidRequest("username is missing: RabbitMQ sends it with every question")
        }
        switch question {
        case .user:
            if fields["password"] != nil {
                return (false, "devices log in with their certificate (ssl_cert_login), not a password")
            }
            return try await mayAct(username)
        case .vhost:
            guard fields["vhost"] == settings.vhost else {
                return (false, "devices use virtual host \(settings.vhost), not \(fields["vhost"]?.prefix(64) ?? "none")")
            }
            let acting = try await mayAct(username)
            guard acting.allowed else { return acting }
            if let clientID = fields["client_id"], !Self.isClientID(clientID, of: username) {
                return (false, "device \(username) must connect with its id as client id (or the id, a dash and a suffix), not \(clientID.prefix(64))")
            }
            return acting
        case .resource:
            guard fields["vhost"] == settings.vhost else { return (false, "virtual host \(fields["vhost"]?.prefix(64) ?? "none") is not the devices'") }
            let acting = try await mayAct(username)
            guard acting.allowed else { return acting }
            let kind = fields["resource"] ?? ""
            let name = fields["name"] ?? ""
            let permission = fields["permission"] ?? ""
            switch kind {
            case "exchange" where name == "amq.topic" && (permission == "read" || permission == "write"):
                return (true, "the MQTT exchange")
            case "queue" where name.hasPrefix("mqtt-subscription-"):
                // The plugin's queue for a session: mqtt-subscription-CLIENTIDqos0 or …qos1.
                var clientID = Substring(name.dropFirst("mqtt-subscription-".count))
                for suffix in ["qos0", "qos1"] where clientID.hasSuffix(suffix) { clientID = clientID.dropLast(suffix.count) }
                guard Self.isClientID(String(clientID), of: username) else {
                    return (false, "queue \(name.prefix(128)) belongs to another client than device \(username)")
                }
                return (true, "the device's own session queue")
            default:
                return (false, "devices reach only their MQTT session queue and amq.topic, not \(permission.prefix(16)) on \(kind.prefix(16)) \(name.prefix(128))")
            }
        case .topic:
            guard fields["vhost"] == settings.vhost, fields["name"] == "amq.topic" else {
                return (false, "devices publish and subscribe through amq.topic in virtual host \(settings.vhost)")
            }
            guard let key = fields["routing_key"], !key.isEmpty, key.utf8.count <= 1024, !key.contains("/") else {
                return (false, "the routing key is missing or is no MQTT topic")
            }
            let topic = Self.mqttTopic(routingKey: key)
            let actions: [String]
            switch fields["permission"] {
            case "write": actions = ["publish"]
            case "read": actions = ["subscribe", "receive"]
            default: return (false, "permission is write or read")
            }
            for action in actions {
                let request: AuthorizationRequest
                do {
                    request = try AuthorizationRequest(action: action, resource: topic, context: AuthorizationContext(time: policy.events.clock.now))
                } catch {
                    return (false, error.reason)
                }
                let (decision, _) = try await policy.decide(username, request, countingDenials: true)
                guard decision.allowed else {
                    return (false, decision.reasons.first?.description ?? "\(action) on \(topic) is denied")
                }
            }
            return (true, "\(actions.joined(separator: " and ")) on \(topic) allowed")
        }
    }

    /// Whether the device `username` exists here and may act.
    private func mayAct(_ username: String) async throws -> (allowed: Bool, why: String) {
        guard username.hasPrefix("dev_"), let entry = try await directory.entry(username), entry.row.id == username else {
            return (false, "\(username.prefix(64)) is not a device here")
        }
        guard entry.state.mayAct else { return (false, "device \(username) is \(entry.state.rawValue) and may not act") }
        return (true, "device \(username) may act")
    }

    /// Whether `clientID` is device `id`'s: the id, or the id, a dash and a suffix.
    static func isClientID(_ clientID: String, of id: String) -> Bool {
        clientID == id || clientID.hasPrefix(id + "-")
    }

    /// The MQTT topic (or filter) RabbitMQ's MQTT plugin turned into `routingKey`.
    static func mqttTopic(routingKey: String) -> String {
        routingKey.replacingOccurrences(of: "*", with: "+").replacingOccurrences(of: ".", with: "/")
    }
}
