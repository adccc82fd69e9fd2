import Foundation
import VouchCore
import VouchKit
import VouchStore
import X509

/// The claims of a device access token: an RFC 9068 `at+jwt` signed by the server's issuer key,
/// bound to the device and to its key by the RFC 7800 confirmation `cnf.jkt` (the key's RFC 7638
/// thumbprint). It is never a bearer token: it is used with a fresh DPoP proof by that key (RFC
/// 9449), or, when issued over the mTLS listener without one, only over a connection with the
/// client certificate `cnf.x5t#S256` names (RFC 8705). A token stops working when the device leaves
/// the states that may act, or when its key is rotated.
struct DeviceAccessToken: Codable, Sendable {
    struct Confirmation: Codable, Sendable {
        var jkt: String
        var x5tS256: String?

        enum CodingKeys: String, CodingKey {
            case jkt
            case x5tS256 = "x5t#S256"
        }
    }
    static let mediaType = "at+jwt"

    var iss: String
    var sub: String
    var aud: String
    var iat: Int
    var exp: Int
    var jti: String
    var cnf: Confirmation
}

/// How a request proved which device it comes from.
enum DeviceCredentialSource: Sendable {
    case accessToken(TokenPresentation)
    case clientCertificate(Certificate)
}
