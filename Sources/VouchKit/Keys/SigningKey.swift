import Crypto
import Foundation

/// A private signing key held by a device, an issuer or a verifier: Ed25519 (the default) or
/// ECDSA P-256. It signs JWS payloads and never leaves the process that made it unless written
/// to a file of mode 0600.
public struct SigningKey: Sendable {
    /// The kinds of key VouchKit generates.
    public enum KeyType: String, Sendable, CaseIterable, Codable {
        /// Ed25519, JWS algorithm `EdDSA`.
        case ed25519
        /// ECDSA over P-256, JWS algorithm `ES256`.
        case p256
    }

    enum Backing: Sendable {
        case ed25519(Curve25519.Signing.PrivateKey)
        case p256(P256.Signing.PrivateKey)
    }

    let backing: Backing

    /// Generates a new key from the system's secure random source.
    public static func generate(_ type: KeyType = .ed25519) -> SigningKey {
        switch type {
        case .ed25519: SigningKey(backing: .ed25519(Curve25519.Signing.PrivateKey()))
        case .p256: SigningKey(backing: .p256(P256.Signing.PrivateKey()))
        }
    }

    init(backing: Backing) {
        self.backing = backing
    }

    /// An Ed25519 key from its 32-byte seed (RFC 8032 private key).
    public init(ed25519Seed seed: some ContiguousBytes) throws {
        do {
            self.init(backing: .ed25519(try Curve25519.Signing.PrivateKey(rawRepresentation: seed)))
        } catch {
            throw VouchKitError.invalidKey("an Ed25519 private key is a 32-byte seed")
        }
    }

    /// Reads a private JWK (`d` present) for Ed25519 or P-256; checks that `x`/`y` match `d`.
    public init(jwk: JWK) throws {
        guard let d = jwk.d, let scalar = Base64URL.decode(d) else {
            throw VouchKitError.invalidKey("the JWK has no private member \"d\"; a signing key needs its private part")
        }
        switch (jwk.kty, jwk.crv) {
        case ("OKP", "Ed25519"):
            try self.init(ed25519Seed: scalar)
        case ("EC", "P-256"):
            do {
                self.init(backing: .p256(try P256.Signing.PrivateKey(rawRepresentation: scalar)))
            } catch {
                throw VouchKitError.invalidKey("a P-256 private key is a 32-byte scalar in range")
            }
        default:
            throw VouchKitError.unsupported("signing keys must be OKP Ed25519 or EC P-256, not \(jwk.kty) \(jwk.crv ?? "")")
        }
        if jwk.x != nil {
            guard try PublicKey(jwk: jwk.publicJWK) == publicKey else {
                throw VouchKitError.invalidKey("the JWK's public members do not match its private key")
            }
        }
    }

    /// The key type.
    public var type: KeyType {
        switch backing {
        case .ed25519: .ed25519
        case .p256: .p256
        }
    }

    /// The JWS algorithm this key signs with.
    public var algorithm: JWSAlgorithm { publicKey.algorithm }

    /// The matching public key.
    public var publicKey: PublicKey {
        switch backing {
        case .ed25519(let key): PublicKey(backing: .ed25519(key.publicKey))
        case .p256(let key): PublicKey(backing: .p256(key.publicKey))
        }
    }

    /// The private JWK, `kid` set to the public key's thumbprint. Handle with care: it holds `d`.
    public var jwk: JWK {
        var jwk = publicKey.jwk
        switch backing {
        case .ed25519(let key): jwk.d = Base64URL.encode(key.rawRepresentation)
        case .p256(let key): jwk.d = Base64URL.encode(key.rawRepresentation)
        }
        return jwk
    }

    /// Signs `data`, returning the JWS-format signature (64 bytes, `r || s` for ECDSA).
    public func signature(for data: some DataProtocol) throws -> [UInt8] {
        do {
            switch backing {
            case .ed25519(let key): return Array(try key.signature(for: data))
            case .p256(let key): return Array(try key.signature(for: data).rawRepresentation)
            }
        } catch {
            throw VouchKitError.cryptographicFailure("signing failed: \(error)")
        }
    }
}

extension SigningKey: CustomStringConvertible {
    /// Never shows private material.
    public var description: String { "SigningKey(\(type.rawValue), \(publicKey.thumbprint))" }
}
