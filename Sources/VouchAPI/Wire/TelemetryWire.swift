import Foundation

/// `POST /v1/telemetry`: a batch of signed envelopes.
public struct TelemetryUpload: Codable, Sendable {
    /// `vouch-telemetry+jwt` envelopes, each signed by the sending device.
    public var envelopes: [String]

    public init(envelopes: [String]) {
        self.envelopes = envelopes
    }
}

/// `POST /v1/telemetry`'s answer: what became of each envelope, in order.
public struct TelemetryReceipt: Codable, Sendable {
    public struct Result: Codable, Sendable {
        public var index: Int
        /// `accepted` or `rejected`.
        public var status: String
        /// Why an envelope was rejected (`replay`, `signature`, …).
        public var reason: String?
        public var detail: String?

        public init(index: Int, status: String, reason: String? = nil, detail: String? = nil) {
            self.index = index
            self.status = status
            self.reason = reason
            self.detail = detail
        }
    }

    public var accepted: Int
    public var rejected: Int
    public var results: [Result]

    public init(accepted: Int, rejected: Int, results: [Result]) {
        self.accepted = accepted
        self.rejected = rejected
        self.results = results
    }
}

/// A message a device sent, as the server keeps it.
public struct TelemetryMessage: Codable, Sendable {
    public var sequence: UInt64
    public var time: String
    public var topic: String
    /// The payload, base64.
    public var payload: String

    public init(sequence: UInt64, time: String, topic: String, payload: String) {
        self.sequence = sequence
        self.time = time
        self.topic = topic
        self.payload = payload
    }
}

/// `GET /v1/admin/devices/{id}/telemetry`.
public struct TelemetryPage: Codable, Sendable {
    /// How many messages per device the server keeps (`--telemetry-keep`).
    public var keep: Int
    public var messages: [TelemetryMessage]

    public init(keep: Int, messages: [TelemetryMessage]) {
        self.keep = keep
        self.messages = messages
    }
}
