import Crypto
import Foundation
import Synchronization

/// Issues nonces and accepts each one once, before it expires, for the audience it was issued for.
/// Memory is bounded: expired nonces are pruned, and when `capacity` live nonces exist no more
/// are issued until some are used or expire.
public final class NonceStore: Sendable {
    private struct Entry {
        let audience: String
        let expiresAt: Date
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let lifetime: TimeInterval
    private let capacity: Int
    private let clock: @Sendable () -> Date

    /// Creates a store whose nonces live `lifetime` seconds (default one minute).
    public init(lifetime: TimeInterval = 60, capacity: Int = 1_000_000, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.lifetime = lifetime
        self.capacity = capacity
        self.clock = clock
    }

    /// Issues a fresh challenge of 256 random bits for `audience`.
    public func issue(audience: String) throws -> Challenge {
        let now = clock()
        let nonce = Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
        let expiresAt = now.addingTimeInterval(lifetime)
        try entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expiresAt > now }
                guard entries.count < capacity else {
                    throw VouchKitError.unsupported("too many outstanding challenges (\(capacity)); try again shortly")
                }
            }
            entries[nonce] = Entry(audience: audience, expiresAt: expiresAt)
        }
        return Challenge(nonce: nonce, audience: audience, expiresAt: expiresAt)
    }

    /// Consumes `nonce`: succeeds once if it was issued for `audience` and has not expired. The nonce
    /// is gone afterwards whatever the outcome.
    public func consume(_ nonce: String, audience: String) -> Result<Void, VerificationFailure> {
        let now = clock()
        let entry = entries.withLock { $0.removeValue(forKey: nonce) }
        guard let entry else {
            return .failure(VerificationFailure(.nonce, "the nonce was not issued here or has already been used"))
        }
        guard entry.expiresAt > now else {
            return .failure(VerificationFailure(.nonce, "the nonce expired at \(RFC3339.format(entry.expiresAt))"))
        }
        guard ConstantTime.equals(entry.audience, audience) else {
            return .failure(VerificationFailure(.audience, "the nonce was issued for \(entry.audience), not \(audience)"))
        }
        return .success(())
    }

    /// The number of outstanding nonces.
    public var count: Int { entries.withLock { $0.count } }
}
