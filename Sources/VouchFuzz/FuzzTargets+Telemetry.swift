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

    /// A `POST /v1/telemetry` body, `{"envelopes": ["<vouch-telemetry+jwt>", …]}`, read by the
    /// reader the server uses (`TelemetryBatch`), each envelope then opened.
    static func telemetryBatch(_ data: Data) {
        guard let envelopes = try? TelemetryBatch.envelopes(Array(data)) else { return }
        for token in envelopes where token.utf8.count <= 16 * 1024 { open(token) }
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
