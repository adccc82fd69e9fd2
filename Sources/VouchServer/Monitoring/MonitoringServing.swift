import VouchCore
import VouchKit

/// What the device API asks of monitoring.
protocol MonitoringServing: Sendable {
    func trust(of id: String) async throws -> TrustReport
    func noteFailedAuthentication(proof: String) async
    func noteAuthenticated(_ deviceID: String, source: IPAddress?) async throws
}

extension MonitoringService: MonitoringServing {}
