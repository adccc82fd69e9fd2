import Foundation

/// A JWS in compact serialisation (RFC 7515 §7.1), parsed but not yet verified.
public struct CompactJWS: Sendable {
    /// The token text.
    public let token: String
    /// The decoded protected header.
    public let header: JOSEHeader
    /// The decoded signature.
    public let signature: [UInt8]
    /// The decoded payload bytes.
    let payloadBytes: [UInt8]
    /// The token's UTF-8 and where the signing input (`header.payload`) ends in it.
    private let tokenBytes: [UInt8]
    private let signingInputEnd: Int

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
            header = try JOSEHeader(json: headerBytes)
        } catch let error as VouchKitError {
            throw VouchKitError.malformedInput("the JWS header is not a JSON object with an \"alg\" string: \(error.reason)")
        }
        self.token = token
        self.payloadBytes = payloadBytes
        self.signature = signatureBytes
        self.tokenBytes = bytes
        self.signingInputEnd = second
    }

    /// The decoded payload bytes.
    public var payload: Data { Data(payloadBytes) }

    /// The bytes the signature covers: `base64url(header) . base64url(payload)`.
    public var signingInput: ArraySlice<UInt8> {
        tokenBytes[..<signingInputEnd]
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
