import Foundation

/// A JWS in compact serialisation (RFC 7515 §7.1), parsed but not yet verified.
public struct CompactJWS: Sendable {
    /// The token text.
    public let token: String
    /// The decoded protected header.
    public let header: JOSEHeader
    /// The decoded payload bytes.
    public let payload: Data
    /// The decoded signature.
    public let signature: [UInt8]
    /// Where the signing input (`header.payload`) ends in the token's UTF-8.
    let signingInputEnd: Int

    /// Splits and decodes a compact JWS. Throws for anything that is not three base64url parts with a
    /// JSON object header naming an algorithm.
    public init(parsing token: String) throws {
        let bytes = Array(token.utf8)
        guard bytes.count <= 1 << 20 else {
            throw VouchKitError.malformedInput("token is larger than 1 MiB")
        }
        guard let first = bytes.firstIndex(of: 0x2E),
            let second = bytes[(first + 1)...].firstIndex(of: 0x2E),
            !bytes[(second + 1)...].contains(0x2E)
        else {
            throw VouchKitError.malformedInput("a compact JWS has exactly three dot-separated parts")
        }
        guard first > 0 else { throw VouchKitError.malformedInput("the JWS header is empty") }
        guard let headerBytes = Base64URL.decode(utf8: bytes[..<first]) else {
            throw VouchKitError.malformedInput("the JWS header is not base64url")
        }
        guard let payloadBytes = Base64URL.decode(utf8: bytes[(first + 1)..<second]) else {
            throw VouchKitError.malformedInput("the JWS payload is not base64url")
        }
        guard let signatureBytes = Base64URL.decode(utf8: bytes[(second + 1)...]) else {
            throw VouchKitError.malformedInput("the JWS signature is not base64url")
        }
        do {
            header = try JSONDecoder().decode(JOSEHeader.self, from: Data(headerBytes))
        } catch {
            throw VouchKitError.malformedInput("the JWS header is not a JSON object with an \"alg\" string")
        }
        self.token = token
        self.payload = Data(payloadBytes)
        self.signature = signatureBytes
        self.signingInputEnd = second
    }

    /// The bytes the signature covers: `base64url(header) . base64url(payload)`.
    public var signingInput: ArraySlice<UInt8> {
        Array(token.utf8)[..<signingInputEnd]
    }

    /// Decodes the payload as `T`.
    public func decodePayload<T: Decodable>(as type: T.Type = T.self) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: payload)
        } catch {
            throw VouchKitError.malformedInput("the JWS payload is not the expected JSON: \(error)")
        }
    }
}
