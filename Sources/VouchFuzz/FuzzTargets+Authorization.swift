import Foundation
import VouchKit

/// What authorization reads from requests, policies and trust bundles: addresses, resource
/// patterns, zone rules.
extension FuzzTargets {
    /// An IP address or CIDR range. A range's text form must read back to the same range.
    static func ipAddress(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        if let address = IPAddress(text) {
            guard IPAddress(address.description) == address else {
                fatalError("IPAddress \(text) is written as \(address), which reads back differently")
            }
        }
        guard let range = try? IPAddressRange(text) else { return }
        guard (try? IPAddressRange(range.description)) == range else {
            fatalError("IPAddressRange \(text) is written as \(range), which reads back differently")
        }
        for sample in sampleAddresses { _ = range.contains(sample) }
    }

    private static let sampleAddresses = ["10.0.0.7", "192.0.2.1", "::1", "2001:db8::1", "::ffff:10.0.0.7"].compactMap(IPAddress.init)

    /// A resource pattern and a resource (a name or an MQTT topic filter), on two lines: the
    /// pattern read, the resource checked as a request's, then matched and overlapped.
    static func resourcePattern(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let resource = lines.count > 1 ? String(lines[1]) : "telemetry/sensor-1/temp"
        _ = try? AuthorizationRequest(action: "publish", resource: resource)
        guard let pattern = try? ResourcePattern(String(lines[0])) else { return }
        _ = pattern.matches(resource)
        _ = pattern.overlaps(resource)
    }

    /// Zone rules as a trust bundle carries them (JSON), each statement read as a role credential
    /// carries it.
    static func zoneRules(_ data: Data) {
        guard let json = try? JSONValue(parsing: data) else { return }
        _ = try? PolicyStatement(json: json)
        guard let rules = try? ZoneRules(json: json) else { return }
        _ = rules.json
    }
}
