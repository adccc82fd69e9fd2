import Foundation

// What an enforcement point reads to decide on its own (a `gateway` API key or better).
extension VouchClient {
    /// `GET /v1/gateway/devices`: a page of devices as decisions need them, after the device id `after`.
    public func gatewayDevices(after: String? = nil, limit: Int = 500) async throws -> GatewayDevicePage {
        try await call("GET", "/v1/gateway/devices" + Self.query([("after", after), ("limit", String(limit))]))
    }

    /// `GET /v1/gateway/devices/{id}`.
    public func gatewayDevice(_ id: String) async throws -> GatewayDevice {
        try await call("GET", "/v1/gateway/devices/\(Self.segment(id))")
    }

    /// `GET /v1/gateway/policy`: the policy in force, as text.
    public func gatewayPolicy() async throws -> GatewayPolicy {
        try await call("GET", "/v1/gateway/policy")
    }
}

extension VouchClient {
    /// `POST /v1/gateway/reports`: what a broker saw devices do (a gateway key only).
    public func gatewayReport(_ report: GatewayReport) async throws -> GatewayReportAnswer {
        try await call("POST", "/v1/gateway/reports", body: .json(report))
    }
}
