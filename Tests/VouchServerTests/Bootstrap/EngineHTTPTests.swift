import Foundation
import HummingbirdTesting
import Testing
import VouchAPI
import VouchCore
import VouchKit

/// The telemetry, policy and transparency-log paths of the API on SQLite and on a test-started
/// PostgreSQL: the same answers from the same requests.
@Suite(
    "API paths on every engine",
    .enabled(if: postgresBinaries != nil || ProcessInfo.processInfo.environment["CI"] != nil, "needs PostgreSQL (CI installs it)")
)
struct EngineHTTPTests {
    @Test(arguments: DatabaseEngineTests.Engine.allCases)
    func telemetryPolicyAndTheLogWorkOn(_ engine: DatabaseEngineTests.Engine) async throws {
        try await DatabaseEngineTests().withEngine(engine) { databaseURL in
            try await withDataDirectory { dir in
                try await withServer(dataDirectory: dir, databaseURL: databaseURL) { client, admin in
                    let operator_ = client.vouch(.apiKey(admin))
                    // Policy: uploaded, in force, versioned; the same text again makes no version.
                    let uploaded = try await operator_.uploadPolicy(plantPolicyYAML)
                    #expect(uploaded.created && uploaded.policy.version == 1)
                    #expect(try await operator_.uploadPolicy(plantPolicyYAML).created == false)
                    #expect(try await operator_.policy().source == plantPolicyYAML)
                    #expect(try await operator_.policyVersions().map(\.version) == [1])

                    // A sensor in line-3.
                    let token = try #require(try await operator_.createGroup(GroupRequest(
                        name: "line", unlimitedTokenUses: true, defaultZone: "line-3", defaultRoles: ["sensor"])).claimToken)
                    let device = DeviceAgent()
                    let id = try await device.enroll(client.vouch(), group: "line", claimToken: token, attributes: ["model": "m1"]).deviceId

                    // Decisions under it.
                    let allowed = try await operator_.authorize(AuthorizeBody(subject: id, action: "publish", resource: "telemetry/\(id)/temp"))
                    #expect(allowed.allowed && allowed.policyVersion == 1 && allowed.zone == "line-3", "\(allowed)")
                    let denied = try await operator_.authorize(AuthorizeBody(subject: id, action: "publish", resource: "telemetry/\(id)/debug"))
                    #expect(!denied.allowed && denied.decision == "deny", "\(denied)")

                    // Telemetry: accepted once; the same envelope again is a replay.
                    let (session, _) = try await client.vouch().authenticated(deviceId: id, agent: device)
                    let envelope = try await device.telemetry(topic: "telemetry/\(id)/temp", payload: Data("21.5".utf8))
                    let first = try await session.sendTelemetry([envelope])
                    #expect(first.accepted == 1 && first.rejected == 0, "\(first)")
                    let again = try await session.sendTelemetry([envelope])
                    #expect(again.accepted == 0 && again.results.first?.reason == "replay", "\(again)")

                    // The log: a checkpoint covering the enrollment, an inclusion proof that verifies
                    // against it, and entries read back as hashed.
                    let verifier = try NoteVerifier(verifierKey: try await client.vouch().logKey().trimmingCharacters(in: .whitespacesAndNewlines))
                    var checkpoint: Checkpoint?
                    let deadline = ContinuousClock.now + .seconds(30)
                    while ContinuousClock.now < deadline {
                        if let note = try? await client.vouch().checkpoint(),
                            let verified = try? Checkpoint.verify(signedNote: note, verifiers: [verifier]).get(), verified.size >= 3
                        {
                            checkpoint = verified
                            break
                        }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    let published = try #require(checkpoint, "no checkpoint of 3 entries or more within 30 s")
                    let entries = try await client.vouch().logEntries(0..<published.size)
                    #expect(entries.entries.map(\.index) == Array(0..<published.size))
                    let last = published.size - 1
                    let proof = try await client.vouch().inclusionProof(index: last, size: published.size)
                    #expect(proof.entry == entries.entries[Int(last)].entry)
                    let verdict = try InclusionProof(leafIndex: last, treeSize: published.size, hashes: proof.inclusionProof.map { try MerkleHash(base64Encoded: $0) })
                        .verify(leafHash: MerkleHash.leafHash(Array(proof.entry.utf8)), rootHash: published.rootHash)
                    #expect(verdict == .valid)
                    let consistency = try await client.vouch().consistencyProof(from: 1, to: published.size)
                    #expect(consistency.from == 1 && consistency.to == published.size)
                }
            }
        }
    }
}
