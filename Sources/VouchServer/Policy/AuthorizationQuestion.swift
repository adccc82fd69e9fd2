import Foundation
import VouchKit

/// `POST /v1/authorize`.
struct AuthorizeBody: Codable, Sendable {
    struct Context: Codable, Sendable {
        init(peer: String? = nil, sourceAddress: String? = nil, time: String? = nil) {
            self.peer = peer
            self.sourceAddress = sourceAddress
            self.time = time
        }

        /// The device on the other end: id or DID.
        var peer: String?
        /// The address the subject's request came from.
        var sourceAddress: String?
        /// When the request is made (RFC 3339); now when absent.
        var time: String?
    }

    /// A device id, a DID, or a `vp+jwt` presentation held by the device.
    var subject: String
    /// For a presentation: the nonce the caller gave the device, checked when present.
    var nonce: String?
    /// For a presentation: the audience it must name, checked when present.
    var audience: String?
    var action: String
    var resource: String
    var context: Context?
}

struct ReasonView: Codable, Sendable {
    var code: String
    var message: String
    var source: String?
}

struct AuthorizeAnswer: Codable, Sendable {
    /// `allow` or `deny`.
    var decision: String
    var allowed: Bool
    var device: String?
    var zone: String?
    var policyVersion: Int?
    var reasons: [ReasonView]
}
