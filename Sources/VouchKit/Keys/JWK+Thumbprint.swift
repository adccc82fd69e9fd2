import Foundation
import Crypto

extension JWK {
    /// The JWK thumbprint (RFC 7638): base64url(SHA-256) of the required members in lexicographic order.
    public func thumbprint() throws -> String {
        let members: [(String, String?)]
        switch kty {
        case "OKP": members = [("crv", crv), ("kty", kty), ("x", x)]
        case "EC": members = [("crv", crv), ("kty", kty), ("x", x), ("y", y)]
        case "RSA": members = [("e", e), ("kty", kty), ("n", n)]
        default: throw VouchKitError.unsupported("no thumbprint is defined for key type \(kty)")
        }
        var json = "{"
        for (index, (name, value)) in members.enumerated() {
            guard let value else { throw VouchKitError.malformedInput("JWK of type \(kty) lacks required member \"\(name)\"") }
            json += (index == 0 ? "" : ",") + "\"\(name)\":" + Self.jsonString(value)
        }
        json += "}"
        return Base64URL.encode(Array(SHA256.hash(data: Array(json.utf8))))
    }

    private static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
