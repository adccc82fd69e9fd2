import Crypto
import Foundation
import Logging
import Synchronization
import VouchStore

/// The single-use nonces devices sign: minted without a write (see `NonceMinter`), spent in the
/// transaction of the change they authorize.
final class NonceService: Sendable {
    /// What a nonce may be spent for.
    enum Purpose: String, Sendable {
        /// `POST /v1/enrollments`.
        case enrollment
        /// Authentication, renewal, rotation and attestation (`POST /v1/auth/challenge`).
        case device
    }

    private let store: Store
    private let minter: NonceMinter
    private let clock: ServerClock
    private let logger: Logger
    /// When expired spent nonces were last purged (seconds); purging runs at most once a minute.
    private let lastPurge = Mutex(0)

    /// How long enrollment and authentication nonces live.
    static let lifetime = 300

    static let stale = ServiceError.unauthenticated(
        "the nonce is unknown, already used or expired; request a new one from POST /v1/auth/challenge"
    )

    init(store: Store, key: SymmetricKey, clock: ServerClock, logger: Logger) {
        self.store = store
        self.minter = NonceMinter(key: key)
        self.clock = clock
        self.logger = logger
    }

    /// A fresh single-use nonce for `purpose`. Nothing is written.
    func issue(_ purpose: Purpose) -> (nonce: String, expiresAt: Int) {
        let stamp = clock.seconds
        let purge = lastPurge.withLock { last in
            guard stamp - last >= 60 else { return false }
            last = stamp
            return true
        }
        if purge {
            // Spent nonces past their expiry are refused on the expiry alone; forgetting them keeps
            // the table small. At most once a minute, off the request's path.
            Task {
                do {
                    try await self.store.write { try await $0.nonces.purge(before: stamp) }
                } catch {
                    self.logger.warning("purging spent nonces failed: \(error)")
                }
            }
        }
        let expiresAt = stamp + Self.lifetime
        return (minter.mint(purpose: purpose.rawValue, expiresAt: expiresAt), expiresAt)
    }

    /// The expiry of `nonce` if this server minted it for `purpose` and it has not expired (it may
    /// have been spent: only spending says).
    func expiry(of nonce: String, purpose: Purpose) -> Int? {
        minter.expiry(of: nonce, purpose: purpose.rawValue, now: clock.seconds)
    }

    /// Spends a device nonce: one insert, committed by itself (token requests write nothing else).
    func consumeDeviceNonce(_ nonce: String) async throws {
        let taken = try await store.write { try await self.spendDeviceNonce(nonce, in: $0) }
        guard taken else { throw Self.stale }
    }

    /// Spends `nonce`, minted for device authentication, in `session`; false when it is not one of
    /// ours, has expired or was spent already.
    func spendDeviceNonce(_ nonce: String, in session: StoreSession) async throws -> Bool {
        guard let expiresAt = expiry(of: nonce, purpose: .device) else { return false }
        return try await session.nonces.spend(digest: Secrets.digest(nonce), expiresAt: expiresAt)
    }
}
