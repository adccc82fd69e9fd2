import Crypto
import Foundation

/// A device's report of the firmware it runs: the image's SHA-256 and its version, carried in a
/// signed telemetry envelope on the topic ``topic`` at enrollment, renewal and boot.
public struct FirmwareMeasurement: Sendable, Hashable {
    /// The topic of measurement envelopes.
    public static let topic = "vouch/attestation/firmware"

    /// Lower-case hex SHA-256 of the image.
    public let sha256: String
    /// The version the device reports, for people.
    public let version: String

    /// A measurement from its digest (64 hex digits) and version (1–64 printable characters).
    public init(sha256: String, version: String) throws {
        let digest = sha256.lowercased()
        guard digest.utf8.count == 64, digest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw VouchKitError.malformedInput("a firmware measurement is the image's SHA-256 as 64 hex digits")
        }
        guard !version.isEmpty, version.utf8.count <= 64, version.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw VouchKitError.malformedInput("a firmware version is 1–64 printable characters without spaces")
        }
        self.sha256 = digest
        self.version = version
    }

    /// The measurement of an image.
    public init(image: some DataProtocol, version: String) throws {
        try self.init(sha256: Hex.encode(Array(SHA256.hash(data: Data(image)))), version: version)
    }

    /// The envelope the device signs to report it.
    public func envelope(device: DID, sequence: UInt64, time: Date = Date()) -> TelemetryEnvelope {
        let payload = JSONValue.object(["sha256": .string(sha256), "version": .string(version)]).canonicalJSON
        return TelemetryEnvelope(device: device, sequence: sequence, time: time, topic: Self.topic, payload: Data(payload))
    }

    /// Reads the measurement an envelope reports.
    public init(envelope: TelemetryEnvelope) throws {
        guard envelope.topic == Self.topic else {
            throw VouchKitError.malformedInput("a firmware measurement is sent on the topic \(Self.topic), not \(envelope.topic.prefix(64))")
        }
        guard let json = try? JSONValue(parsing: envelope.payload), let digest = json["sha256"]?.stringValue, let version = json["version"]?.stringValue else {
            throw VouchKitError.malformedInput("a firmware measurement's payload is {\"sha256\": \"<64 hex digits>\", \"version\": \"…\"}")
        }
        try self.init(sha256: digest, version: version)
    }
}
