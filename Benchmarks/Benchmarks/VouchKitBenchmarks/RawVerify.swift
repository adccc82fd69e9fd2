import Crypto

/// The baseline operation: swift-crypto's Ed25519 verify of a credential's signing input and
/// signature, the very bytes "vc+jwt full verification" checks.
struct RawVerify: Sendable {
    let key: Curve25519.Signing.PublicKey
    let message: [UInt8]
    let signature: [UInt8]

    init(_ fixture: CredentialFixture) {
        key = fixture.issuerCryptoKey
        message = fixture.signingInput
        signature = fixture.signature
    }

    /// A baseline over a newly issued credential.
    static func make() async throws -> RawVerify {
        RawVerify(try await CredentialFixture.make())
    }

    /// Verifies once; stops the run if the signature does not verify.
    @inline(__always)
    func verify() {
        require(key.isValidSignature(signature, for: message), "the baseline signature does not verify")
    }

    /// The mean time of one verify over `count` verifies, in nanoseconds.
    func nanosecondsPerVerify(count: Int = 50) -> Double {
        let clock = ContinuousClock()
        let start = clock.now
        for _ in 0..<count { verify() }
        return (clock.now - start).nanoseconds / Double(count)
    }
}

extension Duration {
    /// The duration in nanoseconds.
    var nanoseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }
}
