import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// What the device API asks of nonces.
protocol NonceIssuing: Sendable {
    func issue(_ purpose: NonceService.Purpose) -> (nonce: String, expiresAt: Int)
}

/// What the device API and its authenticator ask of device authentication.
protocol DeviceAuthenticating: Sendable {
    func issueAccessToken(_ request: TokenRequest, binding: TokenBinding) async throws -> TokenResponse
    func authenticatedDevice(_ source: DeviceCredentialSource, allowingStepUp: Bool) async throws -> DeviceRecord
    func checkDPoP(_ proof: String?, method: String, path: String, host: String?, accessToken: String?) throws -> DPoPProof
    func steppedUp(_ device: DeviceRecord, verdict: FirmwareVerdict) async throws
}

extension NonceService: NonceIssuing {}
extension DeviceAuthService: DeviceAuthenticating {}
