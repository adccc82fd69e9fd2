import Foundation
import VouchKit
import VouchStore

extension ServiceError {
    /// The refusal of a device that was asked to step up: it names when and why, and what to send.
    static func stepUpRequired(_ device: DeviceRecord, _ asked: StepUpRecord, _ detail: String) -> ServiceError {
        var error = ServiceError.forbidden(
            "device \(device.id) was asked to step up at \(RFC3339.format(Date(timeIntervalSince1970: Double(asked.requiredAt)))) (\(asked.cause)); "
                + detail)
        error.members["stepUp"] = "firmware-attestation"
        return error
    }
}
