import Foundation
import Synchronization
import Testing
import VouchTesting
@testable import VouchKit

@Suite("Signed telemetry")
struct TelemetryTests {
    @Test("messages verify in order; a replay and an out-of-order message are refused")
    func replay() async throws {
        let device = DeviceAgent()
        let verifier = TelemetryVerifier()
        let first = try await device.telemetry(topic: "plant/1/temp", payload: Data("21.5".utf8))
        let second = try await device.telemetry(topic: "plant/1/temp", payload: Data("21.7".utf8))
        let accepted = try await verifier.verify(first).get()
        #expect(accepted.device == device.did)
        #expect(accepted.sequence == 1)
        #expect(accepted.topic == "plant/1/temp")
        #expect(accepted.payload == Data("21.5".utf8))
        #expect(try await verifier.verify(second).get().sequence == 2)
        for replayed in [first, second] {
            guard case .failure(let failure) = await verifier.verify(replayed) else {
                Issue.record("replay accepted")
                continue
            }
            #expect(failure.check == .replay)
        }
    }

    @Test("a device cannot sign for another")
    func forgery() async throws {
        let victim = DeviceAgent()
        let attacker = SigningKey.generate()
        let envelope = TelemetryEnvelope(device: victim.did, sequence: 1, topic: "t", payload: Data())
        let forged = try await envelope.signed(with: attacker, keyID: victim.did.didKeyVerificationMethod.description)
        guard case .failure(let failure) = await TelemetryVerifier().verify(forged) else {
            Issue.record("forgery accepted")
            return
        }
        #expect(failure.check == .signature)
        let attackerDID = DID(key: attacker.publicKey)
        let wrongKid = try await envelope.signed(with: attacker, keyID: attackerDID.didKeyVerificationMethod.description)
        guard case .failure(let second) = await TelemetryVerifier().verify(wrongKid) else {
            Issue.record("forgery accepted")
            return
        }
        #expect(second.reason.contains("belongs to"))
    }

    @Test("messages outside the clock window are refused")
    func clockWindow() async throws {
        let device = DeviceAgent()
        let verifier = TelemetryVerifier(replayGuard: ReplayGuard(window: 60))
        let stale = try await device.telemetry(topic: "t", payload: Data(), at: Date().addingTimeInterval(-120))
        let early = try await device.telemetry(topic: "t", payload: Data(), at: Date().addingTimeInterval(120))
        for token in [stale, early] {
            guard case .failure(let failure) = await verifier.verify(token) else {
                Issue.record("accepted a message outside the window")
                continue
            }
            #expect(failure.check == .validity)
        }
    }

    @Test("the replay guard stays bounded: it forgets only devices past the window, and fails closed when full")
    func boundedMemory() {
        let guardian = ReplayGuard(capacity: 2, window: 60)
        let now = Date()
        #expect((try? guardian.accept(device: "a", sequence: 1, time: now.addingTimeInterval(-120), now: now).get()) != nil)
        #expect((try? guardian.accept(device: "b", sequence: 1, time: now, now: now).get()) != nil)
        #expect((try? guardian.accept(device: "c", sequence: 1, time: now, now: now).get()) != nil)
        #expect(guardian.count == 2)
        guard case .failure(let failure) = guardian.accept(device: "d", sequence: 1, time: now, now: now) else {
            Issue.record("accepted past capacity")
            return
        }
        #expect(failure.check == .replay)
        guard case .failure = guardian.accept(device: "b", sequence: 1, time: now, now: now) else {
            Issue.record("accepted a replay")
            return
        }
    }
}

@Suite("Challenge–response")
struct ChallengeTests {
    let audience = "https://vouch.test"

    @Test("nonces carry at least 128 random bits and differ")
    func nonces() throws {
        let store = NonceStore()
        let nonces = try (0..<100).map { _ in try store.issue(audience: audience).nonce }
        #expect(Set(nonces).count == 100)
        #expect(nonces.allSatisfy { (Base64URL.decode($0)?.count ?? 0) >= 16 })
    }

    @Test("an answer verifies once; a reused nonce is refused")
    func once() async throws {
        let store = NonceStore()
        let device = DeviceAgent(.p256)
        let verifier = ChallengeVerifier(store: store, audience: audience)
        let challenge = try store.issue(audience: audience)
        let answer = try await device.answer(challenge)
        #expect(try await verifier.verify(answer).get() == device.did)
        guard case .failure(let failure) = await verifier.verify(answer) else {
            Issue.record("nonce accepted twice")
            return
        }
        #expect(failure.check == .nonce)
    }

    @Test("expired nonces, wrong audiences, stale answers and forged answers are refused")
    func refusals() async throws {
        let clock = TestClock()
        let store = NonceStore(lifetime: 30, clock: { clock.now })
        let device = DeviceAgent()
        let verifier = ChallengeVerifier(store: store, audience: audience)

        let expiring = try store.issue(audience: audience)
        let expiringAnswer = try await device.answer(expiring)
        clock.advance(31)
        guard case .failure(let expired) = await verifier.verify(expiringAnswer) else { Issue.record("expired accepted"); return }
        #expect(expired.check == .nonce)

        let other = try store.issue(audience: "https://other.test")
        guard case .failure(let wrongAudience) = await verifier.verify(try await device.answer(other)) else { Issue.record("wrong audience accepted"); return }
        #expect(wrongAudience.check == .audience)

        let challenge = try store.issue(audience: audience)
        let stale = try await device.answer(challenge, at: Date().addingTimeInterval(-600))
        guard case .failure(let staleFailure) = await verifier.verify(stale) else { Issue.record("stale accepted"); return }
        #expect(staleFailure.check == .validity)

        let fresh = try store.issue(audience: audience)
        let forged = try await ChallengeResponse.sign(fresh, key: SigningKey.generate(), device: device.did, keyID: device.did.didKeyVerificationMethod.description)
        guard case .failure(let forgery) = await verifier.verify(forged) else { Issue.record("forgery accepted"); return }
        #expect(forgery.check == .signature)
        // The forged answer did not burn the device's nonce.
        #expect(try await verifier.verify(try await device.answer(fresh)).get() == device.did)
    }
}

/// A clock tests move by hand.
final class TestClock: Sendable {
    private let current = Mutex(Date())

    var now: Date { current.withLock { $0 } }

    func advance(_ seconds: TimeInterval) {
        current.withLock { $0 = $0.addingTimeInterval(seconds) }
    }
}
