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
    /// The server's nonce this measurement answers, when the server asked (a step-up, a renewal or
    /// rotation gate): signing it proves the measurement is fresh and made for that question.
    public let nonce: String?

    /// A measurement from its digest (64 hex digits), version (1–64 printable characters) and,
    /// when it answers the server's question, the server's nonce (at most 256 characters).
    public init(sha256: String, version: String, nonce: String? = nil) throws {
        let digest = sha256.lowercased()
        guard digest.utf8.count == 64, digest.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw VouchKitError.malformedInput("a firmware measurement is the image's SHA-256 as 64 hex digits")
        }
        guard !version.isEmpty, version.utf8.count <= 64, version.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F }) else {
            throw VouchKitError.malformedInput("a firmware version is 1–64 bytes (UTF-8) of printable text without spaces")
        }
        if let nonce, nonce.isEmpty || nonce.utf8.count > 256 {
            throw VouchKitError.malformedInput("a firmware measurement's nonce is the server's nonce, 1–256 bytes (UTF-8)")
        }
        self.sha256 = digest
        self.version = version
        self.nonce = nonce
    }

    /// The measurement of an image.
    public init(image: some DataProtocol, version: String, nonce: String? = nil) throws {
        try self.init(sha256: Hex.encode(Array(SHA256.hash(data: Data(image)))), version: version, nonce: nonce)
    }

    /// The same measurement answering the server's `nonce`.
    public func answering(_ nonce: String) throws -> FirmwareMeasurement {
        try FirmwareMeasurement(sha256: sha256, version: version, nonce: nonce)
    }

    /// The envelope the device signs to report it.
    public func envelope(device: DID, sequence: UInt64, time: Date = Date()) -> TelemetryEnvelope {
        var members: [String: JSONValue] = ["sha256": .string(sha256), "version": .string(version)]
        if let nonce { members["nonce"] = .string(nonce) }
        let payload = JSONValue.object(members).canonicalJSON
        return TelemetryEnvelope(device: device, sequence: sequence, time: time, topic: Self.topic, payload: Data(payload))
    }

    /// Reads the measurement an envelope reports.
    public init(envelope: TelemetryEnvelope) throws {
        guard envelope.topic == Self.topic else {
            throw VouchKitError.malformedInput("a firmware measurement is sent on the topic \(Self.topic), not \(envelope.topic.prefix(64))")
        }
        guard let json = try? JSONValue(parsing: envelope.payload), let digest = json["sha256"]?.stringValue, let version = json["version"]?.stringValue,
            json["nonce"] == nil || json["nonce"]?.stringValue != nil
        else {
            throw VouchKitError.malformedInput("a firmware measurement's payload is {\"sha256\": \"<64 hex digits>\", \"version\": \"…\", \"nonce\": \"<the server's, when it asked>\"}")
        }
        try self.init(sha256: digest, version: version, nonce: json["nonce"]?.stringValue)
    }
}
