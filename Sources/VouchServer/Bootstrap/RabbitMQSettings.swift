import Foundation
import VouchKit

/// How the server answers RabbitMQ's HTTP auth backend (`/v1/brokers/rabbitmq/…`) and closes a
/// device's connections there when it loses its rights.
public struct RabbitMQSettings: Sendable {
    /// Addresses RabbitMQ's auth backend asks from, answered without an API key (RabbitMQ 3.10
    /// cannot send one); from anywhere else a gateway key is needed.
    public var sources: [IPAddressRange] = []
    /// The virtual host devices connect to; every other is refused.
    public var vhost = "/"
    /// The management API (`http://HOST:15672`), where a revocation, suspension or quarantine
    /// closes the device's connections; nil: connections are not closed.
    public var management: String?
    /// The management API's user (with the administrator tag) and password.
    public var managementUser = ""
    public var managementPassword = ""

    public init() {}

    /// Reads `USER:PASSWORD` from a file only its owner may read.
    public static func credentials(file path: String) throws -> (user: String, password: String) {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw VouchKitError.malformedInput("\(path) may be read by others (mode \(String(mode & 0o777, radix: 8))); chmod 600 it")
        }
        let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex, !text.contains("\n") else {
            throw VouchKitError.malformedInput("\(path) holds one line, USER:PASSWORD, of a management user with the administrator tag")
        }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }
}
