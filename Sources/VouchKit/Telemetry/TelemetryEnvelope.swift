import Foundation

/// A telemetry message signed by the device that sent it: device DID, sequence number, time, topic
/// and payload, as a compact JWS of type `vouch-telemetry+jwt`.
public struct TelemetryEnvelope: Sendable, Hashable {
    /// The sending device.
    public let device: DID
    /// Strictly increasing per device.
    public let sequence: UInt64
    /// When the device sent it.
    public let time: Date
    /// The topic, such as an MQTT topic.
    public let topic: String
    /// The message bytes.
    public let payload: Data

    /// Creates an envelope.
    public init(device: DID, sequence: UInt64, time: Date = Date(), topic: String, payload: Data) {
        self.device = device
        self.sequence = sequence
        self.time = time
        self.topic = topic
        self.payload = payload
    }

    /// The claims. Read only through `init(json:)`, which range-checks `iat`; written as JSON.
    struct Claims: Encodable, Sendable {
        let iss: String
        let seq: UInt64
        let iat: Double
        let topic: String
        let payload: String

        init(iss: String, seq: UInt64, iat: Double, topic: String, payload: String) {
            self.iss = iss
            self.seq = seq
            self.iat = iat
            self.topic = topic
            self.payload = payload
        }

        /// Reads the claims with the one-pass JSON reader; every member is required, none may repeat.
        init(json bytes: [UInt8]) throws {
            var scanner = JSONScanner(bytes)
            var iss: String?
            var seq: UInt64?
            var iat: Double?
            var topic: String?
            var payload: String?
            try scanner.readObject { scanner, key in
                switch key {
                case "iss": try JSONScanner.once(iss != nil, key, in: "the envelope"); iss = try scanner.readString()
                case "seq": try JSONScanner.once(seq != nil, key, in: "the envelope"); seq = try scanner.readUnsignedInteger()
                case "iat": try JSONScanner.once(iat != nil, key, in: "the envelope"); iat = try scanner.readNumericDate("iat").seconds
                case "topic": try JSONScanner.once(topic != nil, key, in: "the envelope"); topic = try scanner.readString()
                case "payload": try JSONScanner.once(payload != nil, key, in: "the envelope"); payload = try scanner.readString()
                default: try scanner.skipValue()
                }
            }
            try scanner.finish()
            guard let iss, let seq, let iat, let topic, let payload else {
                throw VouchKitError.malformedInput("a telemetry envelope needs iss, seq, iat, topic and payload")
            }
            self.init(iss: iss, seq: seq, iat: iat, topic: topic, payload: payload)
        }
    }

    /// Signs the envelope with the device key. `keyID` defaults to the did:key verification method.
    public func signed(with key: SigningKey, keyID: String? = nil) async throws -> String {
        guard let kid = keyID ?? (device.method == "key" ? device.didKeyVerificationMethod.description : nil) else {
            throw VouchKitError.malformedInput("a device DID that is not a did:key needs a keyID")
        }
        let claims = Claims(
            iss: device.description, seq: sequence, iat: (time.timeIntervalSince1970 * 1000).rounded() / 1000,
            topic: topic, payload: Base64URL.encode(payload))
        return try await JWS.sign(claims, type: MediaType.telemetry, kid: kid, key: key)
    }
}
