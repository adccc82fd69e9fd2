import VouchAPI
import VouchStore

/// What the enrollment and device APIs ask of enrollment and reissue.
protocol EnrollmentServing: Sendable {
    func enroll(_ request: EnrollmentRequest) async throws -> (EnrollmentBundle, created: Bool)
    func enrollment(id: String, heldBy keyThumbprint: String) async throws -> EnrollmentBundle
    func renew(_ device: DeviceRecord, _ request: RenewalRequest) async throws -> EnrollmentBundle
    func rotate(_ request: RotationRequest) async throws -> EnrollmentBundle
}

extension EnrollmentService: EnrollmentServing {}
