/// The did:key method (W3C CCG did:key v0.9): the DID is the multibase (`z`, base58btc) encoding of a
/// multicodec-prefixed public key. Ed25519 is `0xed`; P-256 is `0x1200` with the compressed point
/// (P-384 `0x1201` and P-521 `0x1202` are read too).
enum DIDKey {
    private static let ed25519Prefix: [UInt8] = [0xED, 0x01]
    private static let p256Prefix: [UInt8] = [0x80, 0x24]
    private static let p384Prefix: [UInt8] = [0x81, 0x24]
    private static let p521Prefix: [UInt8] = [0x82, 0x24]

    /// The multibase identifier (`z...`) of a key.
    static func multibase(of key: PublicKey) -> String {
        let prefix: [UInt8] =
            switch key.algorithm {
            case .edDSA, .ed25519: ed25519Prefix
            case .es256: p256Prefix
            case .es384: p384Prefix
            case .es512: p521Prefix
            }
        return "z" + Base58.encode(prefix + key.rawRepresentation)
    }

    /// The key a multibase identifier encodes.
    static func publicKey(multibase: String) throws -> PublicKey {
        guard multibase.first == "z", let bytes = Base58.decode(multibase.dropFirst()), bytes.count > 2 else {
            throw VouchKitError.malformedInput("did:key identifier must be multibase base58btc (starting with z)")
        }
        let prefix = Array(bytes[0..<2])
        let raw = Array(bytes[2...])
        switch prefix {
        case ed25519Prefix:
            return try PublicKey(ed25519: raw)
        case p256Prefix:
            guard raw.count == 33 else { throw VouchKitError.invalidKey("a did:key P-256 key is a 33-byte compressed point") }
            return try PublicKey(p256: raw)
        case p384Prefix:
            guard raw.count == 49 else { throw VouchKitError.invalidKey("a did:key P-384 key is a 49-byte compressed point") }
            return try PublicKey(p384Compressed: raw)
        case p521Prefix:
            guard raw.count == 67 else { throw VouchKitError.invalidKey("a did:key P-521 key is a 67-byte compressed point") }
            return try PublicKey(p521Compressed: raw)
        default:
            throw VouchKitError.unsupported("did:key multicodec 0x\(prefix.map { String($0, radix: 16) }.joined()) is not supported; use Ed25519 or P-256")
        }
    }
}

extension DID {
    /// The did:key DID of a public key.
    public init(key: PublicKey) {
        // A multibase string made by DIDKey is always a valid method-specific id.
        self = try! DID("did:key:" + DIDKey.multibase(of: key))
    }

    /// For a did:key DID, the key it encodes.
    public func didKeyPublicKey() throws -> PublicKey {
        guard method == "key" else { throw VouchKitError.unsupported("\(self) is not a did:key DID") }
        return try DIDKey.publicKey(multibase: methodSpecificID)
    }

    /// For a did:key DID, the DID URL of its one verification method (`did:key:z...#z...`).
    public var didKeyVerificationMethod: DIDURL {
        DIDURL(did: self, fragment: methodSpecificID)
    }
}
