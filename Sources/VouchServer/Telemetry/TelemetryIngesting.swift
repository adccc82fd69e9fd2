import VouchKit
import VouchStore

/// What the telemetry API asks of telemetry.
protocol TelemetryIngesting: Sendable {
    var keep: Int { get }
    func ingest(_ envelopes: [String], from device: DeviceRecord, source: IPAddress?) async throws -> [TelemetryOutcome]
    func recentMessages(of device: String) async throws -> [RecentTelemetry.Message]
}

extension TelemetryService: TelemetryIngesting {}
