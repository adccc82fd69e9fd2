import Crypto
import Foundation

/// Standard Webhooks (standardwebhooks.com) signatures: over `{webhook-id}.{webhook-timestamp}.{body}`,
/// `v1` with HMAC-SHA256 under a shared `whsec_` secret, `v1a` with Ed25519 under a `whsk_` key
/// whose `whpk_` public key receivers hold. The `webhook-signature` header lists one or more,
/// space-separated: a sender rotating its secret signs with the old and the new one meanwhile.
public enum StandardWebhook {
    /// A shared secret: 24 to 64 random bytes, written `whsec_` + base64.
    public struct Secret: Sendable, Hashable {
        public let bytes: [UInt8]

        public static let prefix = "whsec_"

        /// A new secret of 32 random bytes.
        public static func generate() -> Secret {
            Secret(validated: SecureRandom.bytes(32))
        }

        private init(validated bytes: [UInt8]) {
            self.bytes = bytes
        }

        /// Reads `whsec_…` (the prefix may be left out, as the libraries allow).
        public init(serialized text: String) throws(VouchKitError) {
            let encoded = text.hasPrefix(Self.prefix) ? String(text.dropFirst(Self.prefix.count)) : text
            guard let data = Data(base64Encoded: encoded), (24...64).contains(data.count) else {
                throw VouchKitError.invalidKey("a webhook secret is whsec_ followed by the base64 of 24 to 64 bytes")
            }
            bytes = Array(data)
        }

        public var serialized: String { Self.prefix + Data(bytes).base64EncodedString() }
    }

    /// An Ed25519 key pair for `v1a`: the private key written `whsk_` + base64 of its 32-byte seed,
    /// the public key `whpk_` + base64 of its 32 bytes.
    public struct AsymmetricKey: Sendable {
        public let privateKey: Curve25519.Signing.PrivateKey

        public static let privatePrefix = "whsk_"
        public static let publicPrefix = "whpk_"

        public static func generate() -> AsymmetricKey {
            AsymmetricKey(privateKey: Curve25519.Signing.PrivateKey())
        }

        init(privateKey: Curve25519.Signing.PrivateKey) {
            self.privateKey = privateKey
        }

        public init(serialized text: String) throws(VouchKitError) {
            guard text.hasPrefix(Self.privatePrefix), let data = Data(base64Encoded: String(text.dropFirst(Self.privatePrefix.count))), data.count == 32,
                let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: data)
            else {
                throw VouchKitError.invalidKey("a webhook signing key is whsk_ followed by the base64 of a 32-byte Ed25519 seed")
            }
            privateKey = key
        }

        public var serialized: String { Self.privatePrefix + privateKey.rawRepresentation.base64EncodedString() }
        public var publicKey: String { Self.publicPrefix + privateKey.publicKey.rawRepresentation.base64EncodedString() }

        /// Reads a `whpk_` public key.
        public static func publicKey(serialized text: String) throws(VouchKitError) -> Curve25519.Signing.PublicKey {
            guard text.hasPrefix(publicPrefix), let data = Data(base64Encoded: String(text.dropFirst(publicPrefix.count))), data.count == 32,
                let key = try? Curve25519.Signing.PublicKey(rawRepresentation: data)
            else {
                throw VouchKitError.invalidKey("a webhook public key is whpk_ followed by the base64 of a 32-byte Ed25519 public key")
            }
            return key
        }
    }

    /// What is signed: `id.timestamp.body`.
    public static func signedContent(id: String, timestamp: Int, body: [UInt8]) -> [UInt8] {
        Array("\(id).\(timestamp).".utf8) + body
    }

    /// The `v1` signature under `secret`.
    public static func signature(secret: Secret, id: String, timestamp: Int, body: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: signedContent(id: id, timestamp: timestamp, body: body), using: SymmetricKey(data: secret.bytes))
        return "v1," + Data(mac).base64EncodedString()
    }

    /// The `v1a` signature under `key`.
    public static func signature(key: AsymmetricKey, id: String, timestamp: Int, body: [UInt8]) throws -> String {
        "v1a," + (try key.privateKey.signature(for: signedContent(id: id, timestamp: timestamp, body: body))).base64EncodedString()
    }

    /// Why a delivery does not verify.
    public enum Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        case missingHeader(String)
        case malformedHeader(String)
        case timestampOutOfTolerance(Int)
        case noMatchingSignature

        public var description: String {
            switch self {
            case .missingHeader(let name): "the \(name) header is missing"
            case .malformedHeader(let reason): reason
            case .timestampOutOfTolerance(let seconds): "webhook-timestamp is \(seconds) s away from now, outside the tolerance"
            case .noMatchingSignature: "no signature in webhook-signature matches"
            }
        }
    }

    /// Checks deliveries as a receiver does: the id has no dot, the timestamp is an integer within
    /// `tolerance` of now, and one of the listed signatures verifies under one of the secrets or
    /// public keys (HMACs compared in constant time).
    public struct Verifier: Sendable {
        public var secrets: [Secret]
        public var publicKeys: [Curve25519.Signing.PublicKey]
        /// Seconds a timestamp may be from now either way.
        public var tolerance: Int

        public init(secrets: [Secret] = [], publicKeys: [Curve25519.Signing.PublicKey] = [], tolerance: Int = 300) {
            self.secrets = secrets
            self.publicKeys = publicKeys
            self.tolerance = tolerance
        }

        /// The most signatures read from one header, and the longest header.
        static let maximumSignatures = 16
        static let maximumHeaderBytes = 4096

        public func verify(id: String?, timestamp: String?, signatures: String?, body: [UInt8], now: Date = Date()) throws(Refusal) {
            guard let id, !id.isEmpty else { throw .missingHeader("webhook-id") }
            guard let timestamp else { throw .missingHeader("webhook-timestamp") }
            guard let signatures else { throw .missingHeader("webhook-signature") }
            guard id.utf8.count <= 256, !id.contains(".") else { throw .malformedHeader("webhook-id must be at most 256 bytes with no dot") }
            // Range-checked where it is read: at most 10 digits, so no arithmetic below can overflow.
            guard timestamp.utf8.count <= 10, timestamp.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let seconds = Int(timestamp) else {
                throw .malformedHeader("webhook-timestamp must be whole seconds since 1970")
            }
            let offset = seconds - Int(now.timeIntervalSince1970)
            guard abs(offset) <= tolerance else { throw .timestampOutOfTolerance(offset) }
            guard signatures.utf8.count <= Self.maximumHeaderBytes else { throw .malformedHeader("webhook-signature is too long") }
            let content = signedContent(id: id, timestamp: seconds, body: body)
            for entry in signatures.split(separator: " ", omittingEmptySubsequences: true).prefix(Self.maximumSignatures) {
                guard let comma = entry.firstIndex(of: ","), let signature = Data(base64Encoded: String(entry[entry.index(after: comma)...])) else { continue }
                switch entry[..<comma] {
                case "v1":
                    for secret in secrets {
                        let expected = HMAC<SHA256>.authenticationCode(for: content, using: SymmetricKey(data: secret.bytes))
                        if ConstantTime.equals(Array(expected), Array(signature)) { return }
                    }
                case "v1a":
                    for key in publicKeys where key.isValidSignature(signature, for: content) {
                        return
                    }
                default:
                    continue
                }
            }
            throw .noMatchingSignature
        }
    }
}
