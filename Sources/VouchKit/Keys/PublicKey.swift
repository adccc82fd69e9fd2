import Crypto
import Foundation
import SwiftASN1
import X509

/// A public signing key: Ed25519 or ECDSA over P-256 (what devices use), or P-384/P-521 (verified
/// when third parties use them). Equal keys compare equal whatever form they were read from.
public struct PublicKey: Sendable {
    enum Backing: Sendable {
        case ed25519(Curve25519.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case p521(P521.Signing.PublicKey)
    }

    let backing: Backing

    init(backing: Backing) {
        self.backing = backing
    }

    /// The JWS algorithm this key verifies.
    public var algorithm: JWSAlgorithm {
        switch backing {
        case .ed25519: .edDSA
        case .p256: .es256
        case .p384: .es384
        case .p521: .es512
        }
    }

    /// The raw public key: 32 bytes for Ed25519, the compressed SEC1 point for the NIST curves.
    public var rawRepresentation: [UInt8] {
        switch backing {
        case .ed25519(let key): Array(key.rawRepresentation)
        case .p256(let key): Array(key.compressedRepresentation)
        case .p384(let key): Array(key.compressedRepresentation)
        case .p521(let key): Array(key.compressedRepresentation)
        }
    }

    /// An Ed25519 key from its 32 raw bytes.
    public init(ed25519 raw: some ContiguousBytes) throws {
        do {
            self.init(backing: .ed25519(try Curve25519.Signing.PublicKey(rawRepresentation: raw)))
        } catch {
            throw VouchKitError.invalidKey("an Ed25519 public key is 32 bytes")
        }
    }

    /// A P-256 key from its compressed or uncompressed SEC1 point.
    public init(p256 point: some ContiguousBytes) throws {
        let bytes = point.withUnsafeBytes { Array($0) }
        do {
            let key =
                bytes.count == 33
                ? try P256.Signing.PublicKey(compressedRepresentation: bytes)
                : try P256.Signing.PublicKey(x963Representation: bytes)
            self.init(backing: .p256(key))
        } catch {
            throw VouchKitError.invalidKey("not a point on P-256")
        }
    }

    /// Verifies a JWS-format signature (raw 64 bytes for Ed25519, `r || s` for ECDSA) over `data`.
    public func isValidSignature(_ signature: some DataProtocol, for data: some DataProtocol) -> Bool {
        switch backing {
        case .ed25519(let key):
            return key.isValidSignature(signature, for: data)
        case .p256(let key):
            guard let sig = try? P256.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: data)
        case .p384(let key):
            guard let sig = try? P384.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: data)
        case .p521(let key):
            guard let sig = try? P521.Signing.ECDSASignature(rawRepresentation: signature) else { return false }
            return key.isValidSignature(sig, for: data)
        }
    }
}

extension PublicKey: Hashable {
    public static func == (lhs: PublicKey, rhs: PublicKey) -> Bool {
        lhs.algorithm == rhs.algorithm && lhs.rawRepresentation == rhs.rawRepresentation
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(algorithm)
        hasher.combine(rawRepresentation)
    }
}

extension PublicKey {
    /// Reads a public key from a JWK (RFC 7517 / RFC 8037). Private members, if any, are ignored.
    public init(jwk: JWK) throws {
        func coordinate(_ value: String?, _ name: String, length: Int) throws -> [UInt8] {
            guard let value, let bytes = Base64URL.decode(value) else {
                throw VouchKitError.invalidKey("JWK member \"\(name)\" is missing or not base64url")
            }
            guard bytes.count == length else {
                throw VouchKitError.invalidKey("JWK member \"\(name)\" must be \(length) bytes, got \(bytes.count)")
            }
            return bytes
        }
        switch (jwk.kty, jwk.crv) {
        case ("OKP", "Ed25519"):
            try self.init(ed25519: try coordinate(jwk.x, "x", length: 32))
        case ("EC", "P-256"):
            let point = [0x04] + (try coordinate(jwk.x, "x", length: 32)) + (try coordinate(jwk.y, "y", length: 32))
            try self.init(p256: point)
        case ("EC", "P-384"):
            let point = [0x04] + (try coordinate(jwk.x, "x", length: 48)) + (try coordinate(jwk.y, "y", length: 48))
            do { self.init(backing: .p384(try P384.Signing.PublicKey(x963Representation: point))) } catch {
                throw VouchKitError.invalidKey("not a point on P-384")
            }
        case ("EC", "P-521"):
            let point = [0x04] + (try coordinate(jwk.x, "x", length: 66)) + (try coordinate(jwk.y, "y", length: 66))
            do { self.init(backing: .p521(try P521.Signing.PublicKey(x963Representation: point))) } catch {
                throw VouchKitError.invalidKey("not a point on P-521")
            }
        default:
            throw VouchKitError.unsupported("unsupported JWK key type \(jwk.kty) / curve \(jwk.crv ?? "none"); use OKP Ed25519 or EC P-256")
        }
        if let alg = jwk.alg, alg != algorithm.rawValue {
            throw VouchKitError.invalidKey("JWK \"alg\" is \(alg) but the key is for \(algorithm.rawValue)")
        }
    }

    /// The public JWK, with `kid` set to its RFC 7638 thumbprint.
    public var jwk: JWK {
        var jwk: JWK
        switch backing {
        case .ed25519(let key):
            jwk = JWK(kty: "OKP", crv: "Ed25519", x: Base64URL.encode(key.rawRepresentation))
        case .p256(let key):
            let raw = Array(key.rawRepresentation)
            jwk = JWK(kty: "EC", crv: "P-256", x: Base64URL.encode(raw[0..<32]), y: Base64URL.encode(raw[32...]))
        case .p384(let key):
            let raw = Array(key.rawRepresentation)
            jwk = JWK(kty: "EC", crv: "P-384", x: Base64URL.encode(raw[0..<48]), y: Base64URL.encode(raw[48...]))
        case .p521(let key):
            let raw = Array(key.rawRepresentation)
            jwk = JWK(kty: "EC", crv: "P-521", x: Base64URL.encode(raw[0..<66]), y: Base64URL.encode(raw[66...]))
        }
        jwk.kid = try? jwk.thumbprint()
        return jwk
    }

    /// The RFC 7638 JWK thumbprint of this key.
    public var thumbprint: String {
        // A JWK built from a valid key always has its required members.
        jwk.kid ?? ""
    }
}

extension PublicKey {
    private var certificateKey: Certificate.PublicKey {
        switch backing {
        case .ed25519(let key): Certificate.PublicKey(key)
        case .p256(let key): Certificate.PublicKey(key)
        case .p384(let key): Certificate.PublicKey(key)
        case .p521(let key): Certificate.PublicKey(key)
        }
    }

    /// Reads a DER-encoded SubjectPublicKeyInfo.
    public init(derRepresentation der: some DataProtocol) throws {
        let key: Certificate.PublicKey
        do {
            key = try Certificate.PublicKey(derEncoded: Array(der))
        } catch {
            throw VouchKitError.malformedInput("not a DER SubjectPublicKeyInfo: \(error)")
        }
        try self.init(certificateKey: key)
    }

    /// Reads a PEM `PUBLIC KEY` block.
    public init(pemRepresentation pem: String) throws {
        let key: Certificate.PublicKey
        do {
            key = try Certificate.PublicKey(pemEncoded: pem)
        } catch {
            throw VouchKitError.malformedInput("not a PEM public key: \(error)")
        }
        try self.init(certificateKey: key)
    }

    /// Wraps a key taken from an X.509 certificate or CSR.
    public init(certificateKey key: Certificate.PublicKey) throws {
        if let ed = Curve25519.Signing.PublicKey(key) {
            self.init(backing: .ed25519(ed))
        } else if let p256 = P256.Signing.PublicKey(key) {
            self.init(backing: .p256(p256))
        } else if let p384 = P384.Signing.PublicKey(key) {
            self.init(backing: .p384(p384))
        } else if let p521 = P521.Signing.PublicKey(key) {
            self.init(backing: .p521(p521))
        } else {
            throw VouchKitError.unsupported("only Ed25519 and NIST P-256/P-384/P-521 public keys are supported")
        }
    }

    /// The DER-encoded SubjectPublicKeyInfo.
    public var derRepresentation: [UInt8] {
        var serializer = DER.Serializer()
        // Serialising a well-formed key into a fresh serializer cannot fail.
        try? serializer.serialize(certificateKey)
        return serializer.serializedBytes
    }

    /// The PEM `PUBLIC KEY` block.
    public var pemRepresentation: String {
        PEMDocument(type: "PUBLIC KEY", derBytes: derRepresentation).pemString
    }

    /// This key as swift-certificates' type, for building certificates and CSRs.
    public var certificatePublicKey: Certificate.PublicKey { certificateKey }
}

extension PublicKey {
    init(p384Compressed raw: [UInt8]) throws {
        do { self.init(backing: .p384(try P384.Signing.PublicKey(compressedRepresentation: raw))) } catch {
            throw VouchKitError.invalidKey("not a point on P-384")
        }
    }

    init(p521Compressed raw: [UInt8]) throws {
        do { self.init(backing: .p521(try P521.Signing.PublicKey(compressedRepresentation: raw))) } catch {
            throw VouchKitError.invalidKey("not a point on P-521")
        }
    }
}
