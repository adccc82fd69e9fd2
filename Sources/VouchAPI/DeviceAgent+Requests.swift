import Foundation
import VouchKit

// The requests that carry what a device signs, and the exchanges they make.
extension DeviceAgent {
    /// An enrollment request: the CSR, the proof of possession over `nonce` and `group`, the
    /// group's claim token (claim-token groups), and a firmware report answering `nonce`.
    public func enrollmentRequest(
        nonce: String, group: String, claimToken: String?, attributes: [String: String]? = nil, firmware: FirmwareMeasurement? = nil,
        at time: Date = Date()
    ) async throws -> EnrollmentRequest {
        var report: String?
        if let firmware { report = try await measurement(firmware, answering: nonce, at: time) }
        return EnrollmentRequest(
            nonce: nonce, group: group, csr: try certificateSigningRequestPEM(), attributes: attributes,
            attestation: .init(claimToken: claimToken), proof: try await possessionProof(nonce: nonce, group: group), measurement: report)
    }

    /// Enrolls through `client`: a nonce, then the request. The bundle's `state` is `pending`
    /// when the group wants approval.
    public func enroll(
        _ client: VouchClient, group: String, claimToken: String?, attributes: [String: String]? = nil, firmware: FirmwareMeasurement? = nil
    ) async throws -> EnrollmentBundle {
        let nonce = try await client.enrollmentNonce().nonce
        return try await client.enroll(
            try await enrollmentRequest(nonce: nonce, group: group, claimToken: claimToken, attributes: attributes, firmware: firmware, at: client.now()))
    }

    /// This device's client: anonymous `client` made to carry the device's DPoP proofs and, once it
    /// has one, its access token.
    public func client(_ client: VouchClient, accessToken: String? = nil) -> VouchClient {
        client.with(.device(key: key, accessToken: accessToken))
    }
}
