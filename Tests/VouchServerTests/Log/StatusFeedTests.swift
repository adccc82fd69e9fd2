import Foundation
import HTTPTypes
import HummingbirdTesting
import Synchronization
import Testing
import VouchAPI
import VouchCore
import VouchKit

/// A source whose stream is down: the feed must fall back to polling.
struct StreamlessSource: StatusFeedSource {
    let inner: VouchStatusFeedSource

    func revocations(after generation: Int) -> AsyncThrowingStream<StatusFeedSignal, any Error> {
        AsyncThrowingStream { $0.finish(throwing: VouchClientError.unreachable("the stream is down in this test")) }
    }
    func statusListCredential(_ url: String) async throws -> String { try await inner.statusListCredential(url) }
    func revokedSerials() async throws -> Set<String>? { try await inner.revokedSerials() }
}

@Suite("StatusFeed: a gateway's revocation knowledge, kept current")
struct StatusFeedTests {
    /// Waits (30 s at most) until the feed's knowledge satisfies `done`.
    func wait(_ feed: StatusFeed, _ what: String, until done: (StatusFeed.Knowledge) -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if done(feed.knowledge()) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("the feed did not get \(what) within 30 s: generation \(feed.knowledge().generation), \(feed.knowledge().certificates)")
        throw CancellationError()
    }

    @Test("from the stream, and by polling when it is down: a revocation reaches offline verification, and old knowledge fails the check")
    func followsTheAuthority() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, setup: .live, heartbeat: .milliseconds(100)) { client, admin, _ in
                let server = "http://127.0.0.1:\(try #require(client.port))"
                let fleet = PolicyFleet(client: client, admin: admin)
                let (id, answer) = try await fleet.enroll(group: "gateway-feed", zone: "lab", roles: [])
                let credential = try #require(answer["identityCredential"]?.stringValue)
                let bundleToken = try #require(answer["trustBundle"]?.stringValue)
                let contents = try CompactJWS(parsing: bundleToken).decodePayload(as: TrustBundle.Contents.self)
                let bundle = try await TrustBundle(verifying: bundleToken, authority: try DID(contents.authority))
                let serial = try #require(
                    try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json["certificates"]?.arrayValue.first?["serial"]?.stringValue)
                let source = try VouchStatusFeedSource(server: server, crlIssuers: bundle.caCertificates)
                let configuration = StatusFeed.Configuration(statusListURLs: bundle.contents.statusListURLs, trust: bundle)

                let streamed = StatusFeed(source: source, configuration: configuration)
                var polling = configuration
                polling.pollInterval = .milliseconds(100)
                polling.reconnectDelay = .milliseconds(100)
                let polled = StatusFeed(source: StreamlessSource(inner: source), configuration: polling)
                let running = [Task { await streamed.run() }, Task { await polled.run() }]
                defer { running.forEach { $0.cancel() } }

                try await wait(streamed, "the lists and the stream") { $0.lists.count == 2 && $0.streaming && $0.asOf != nil }
                try await wait(polled, "the lists by polling") { $0.lists.count == 2 && !$0.streaming && $0.asOf != nil }
                func verify(_ knowledge: StatusFeed.Knowledge, now: Date = Date()) async -> CredentialVerificationResult {
                    await CredentialVerifier(trust: bundle) {
                        SignaturePolicy()
                        ValidityPolicy(now: now)
                        knowledge.statusPolicy(maximumAge: 60, now: now)
                    }.verify(credential)
                }
                #expect(await verify(streamed.knowledge()).isValid)
                #expect(await verify(polled.knowledge()).isValid)
                #expect(streamed.knowledge().state(ofSerial: serial) == "good")

                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/revoke", json: ["reason": "key-compromise"], apiKey: admin).status == 200)
                try await wait(streamed, "the revocation from the stream") { $0.state(ofSerial: serial) == "revoked" }
                let revoked = await verify(streamed.knowledge())
                #expect(!revoked.isValid)
                #expect(revoked.failures.contains { $0.check == .status && $0.reason.contains("revoked") }, "\(revoked.failures)")
                // The polling feed learns it from the status list and the (verified) CRL, at its next poll.
                try await wait(polled, "the revocation by polling") { $0.state(ofSerial: serial) == "revoked" }
                let deadline = ContinuousClock.now + .seconds(30)
                var polledResult = await verify(polled.knowledge())
                while polledResult.isValid, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                    polledResult = await verify(polled.knowledge())
                }
                #expect(polledResult.failures.contains { $0.check == .status && $0.reason.contains("revoked") }, "\(polledResult.failures)")

                // Heartbeats keep the stream's knowledge current; knowledge older than allowed fails
                // the check, whatever the lists say (verified as of two minutes from now).
                let before = try #require(streamed.knowledge().asOf)
                try await wait(streamed, "a heartbeat") { ($0.asOf ?? before) > before }
                let later = Date().addingTimeInterval(120)
                let stale = await verify(streamed.knowledge(), now: later)
                #expect(stale.failures.contains { $0.check == .status && $0.reason.contains("longer than the 60 s allowed") }, "\(stale.failures)")
                let never = StatusFeed(source: source, configuration: configuration).knowledge()
                #expect((await verify(never)).failures.contains { $0.reason.contains("never known current") })
            }
        }
    }
}
