import Foundation
import VouchKit

/// Signed telemetry: envelopes, the batches devices post, and firmware measurements.
extension FuzzTargets {
    /// The claims of an envelope (`iss`, `seq`, `iat`, `topic`, `payload`), signed by the
    /// fixture's device key and opened as the server opens them.
    static func telemetryEnvelope(_ data: Data) {
        open(FuzzFixture.token(payload: data, type: "vouch-telemetry+jwt"))
    }

    /// A whole envelope token, opened as the server opens one from the fixture's device.
    static func telemetryToken(_ data: Data) {
        open(String(decoding: data, as: UTF8.self))
    }

    /// A `POST /v1/telemetry` body, `{"envelopes": ["<vouch-telemetry+jwt>", …]}`, read as the
    /// server's `TelemetryController.envelopes` reads it (one pass, at most 1000 envelopes, none
    /// repeated key), each envelope then opened.
    static func telemetryBatch(_ data: Data) {
        var scanner = JSONScanner(Array(data))
        var envelopes: [String]?
        do {
            try scanner.readObject { scanner, key in
                switch key {
                case "envelopes":
                    try JSONScanner.once(envelopes != nil, key, in: "the body")
                    var list: [String] = []
                    try scanner.readArray { scanner in
                        guard list.count < 1000 else { throw VouchKitError.malformedInput("a batch holds at most 1000 envelopes") }
                        list.append(try scanner.readString())
                    }
                    envelopes = list
                default:
                    try scanner.skipValue()
                }
            }
            try scanner.finish()
        } catch {
            return
        }
        for token in envelopes ?? [] where token.utf8.count <= 16 * 1024 { open(token) }
    }

    /// The payload of a firmware measurement envelope, read as the server reads a measurement.
    static func firmwareMeasurement(_ data: Data) {
        let envelope = TelemetryEnvelope(device: FuzzFixture.deviceDID, sequence: 1, time: FuzzFixture.now, topic: FirmwareMeasurement.topic, payload: data)
        guard let measurement = try? FirmwareMeasurement(envelope: envelope) else { return }
        _ = measurement.envelope(device: FuzzFixture.deviceDID, sequence: 2, time: FuzzFixture.now)
    }

    /// Opens `token` as an envelope of the fixture's device, and reads what the server reads next.
    private static func open(_ token: String) {
        let opened = TelemetryEnvelope.open(token, device: FuzzFixture.deviceDID.description, key: FuzzFixture.devicePublicKey)
        guard case .success(let envelope) = opened else { return }
        // The server's clock window and its messages.
        let skew = envelope.time.timeIntervalSince(FuzzFixture.now)
        _ = Int(skew.rounded())
        _ = RFC3339.format(envelope.time)
        if envelope.topic == FirmwareMeasurement.topic { _ = try? FirmwareMeasurement(envelope: envelope) }
    }
}
