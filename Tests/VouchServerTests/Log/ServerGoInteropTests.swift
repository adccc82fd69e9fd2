import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchKit

/// Go's reference implementation reads what a running Vouch server publishes over HTTP: its signed
/// checkpoint (with a witness's cosignature line, which Go skips), the inclusion proof of every
/// entry, consistency proofs from every earlier size, and each entry's leaf hash; and refuses them
/// once altered.
@Suite(
    "Go tlog interop with the server",
    .enabled(if: GoTlogVerifier.isAvailable || ProcessInfo.processInfo.environment["CI"] != nil, "needs go and golang.org/x/mod (CI installs them)"),
    .timeLimit(.minutes(5))
)
struct ServerGoInteropTests {
    @Test func goVerifiesTheServersCheckpointsAndProofs() async throws {
        let go = try await GoTlogVerifier.shared()
        let witness = try CosignatureSigner.generate(name: "witness.test")
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, witnesses: [witness.verifier.verifierKey], witnessQuorum: 1) { client, admin, _ in
                for group in 0..<3 {
                    _ = try await TransparencyLogTests.enroll(client, admin: admin, group: "go\(group)", headers: [HTTPField.Name("Prefer")!: "return=minimal"])
                }
                // Let the witness cosign, so that the published note carries a cosignature line.
                var pending = try await client.call(.get, "/v1/log/pending")
                for _ in 0..<200 where pending.status != 200 || (try? Checkpoint(parsing: SignedNote(parsing: pending.text).text).size) ?? 0 < 12 {
                    try await Task.sleep(for: .milliseconds(20))
                    pending = try await client.call(.get, "/v1/log/pending")
                }
                let cosigned = try witness.cosign(try SignedNote(parsing: pending.text), time: UInt64(Date().timeIntervalSince1970))
                #expect(try await client.call(.post, "/v1/log/cosignatures", body: Array(cosigned.serialized.utf8)).json["published"] == .bool(true))

                let key = try await client.call(.get, "/v1/log/key").text.trimmingCharacters(in: .whitespacesAndNewlines)
                let note = try await client.call(.get, "/v1/log/checkpoint").text
                #expect(note.contains("— witness.test "))
                let checkpoint = try Checkpoint(parsing: try SignedNote(parsing: note).text)
                let size = checkpoint.size
                let root = checkpoint.rootHash.base64EncodedString

                var input = GoTlogVerifier.Input(verifierKeys: [key], checkpoint: note)
                let entries = try await client.call(.get, "/v1/log/entries?start=0&end=\(size)").json["entries"]!.arrayValue
                for entry in entries {
                    let index = UInt64(entry["index"]!.numberValue!)
                    let bytes = Array(entry["entry"]!.stringValue!.utf8)
                    let proof = try await client.call(.get, "/v1/log/proof/inclusion?index=\(index)&size=\(size)").json
                    let leafHash = try #require(proof["leafHash"]?.stringValue)
                    input.leaves.append(.init(entry: Data(bytes).base64EncodedString(), leafHash: leafHash))
                    input.inclusion.append(.init(
                        index: index, size: size, leafHash: leafHash, proof: proof["inclusionProof"]!.arrayValue.compactMap(\.stringValue), root: root))
                }
                for old in 1...size {
                    let oldRoot = try await client.call(.get, "/v1/log/proof/inclusion?index=0&size=\(old)").json
                    // The root of the older tree, from the leaf and its proof at that size.
                    let rootAtOld = try InclusionProof(
                        leafIndex: 0, treeSize: old, hashes: oldRoot["inclusionProof"]!.arrayValue.map { try MerkleHash(base64Encoded: $0.stringValue!) }
                    ).root(forLeafHash: try MerkleHash(base64Encoded: oldRoot["leafHash"]!.stringValue!))
                    let proof = try await client.call(.get, "/v1/log/proof/consistency?from=\(old)&to=\(size)").json
                    input.consistency.append(.init(
                        oldSize: old, newSize: size, oldRoot: rootAtOld.base64EncodedString, newRoot: root,
                        proof: proof["proof"]!.arrayValue.compactMap(\.stringValue)))
                }
                let verdict = try await go.verify(input)
                #expect(verdict.checkpoint?.ok == true, "\(verdict.checkpoint?.error ?? "")")
                #expect(verdict.checkpoint?.size == size)
                #expect(verdict.checkpoint?.origin == "vouch.test/vouch/log")
                let failedInclusions = verdict.inclusion.filter { !$0.ok }
                let failedConsistency = verdict.consistency.filter { !$0.ok }
                #expect(verdict.inclusion.count == Int(size) && failedInclusions.isEmpty, "\(failedInclusions)")
                #expect(verdict.consistency.count == Int(size) && failedConsistency.isEmpty, "\(failedConsistency)")
                #expect(verdict.leaves.count == Int(size) && verdict.leaves.filter { !$0.ok }.isEmpty)

                // Altered: the checkpoint's size, a proof hash, the root a proof must reach.
                var altered = input
                altered.checkpoint = note.replacingOccurrences(of: "\n\(size)\n", with: "\n\(size + 1)\n")
                altered.inclusion = [input.inclusion[1]]
                altered.inclusion[0].proof[0] = MerkleHash.leafHash(Array("x".utf8)).base64EncodedString
                altered.consistency = [input.consistency[0]]
                altered.consistency[0].newRoot = input.consistency[0].oldRoot
                altered.leaves = [.init(entry: input.leaves[0].entry, leafHash: input.leaves[1].leafHash)]
                let refused = try await go.verify(altered)
                #expect(refused.checkpoint?.ok == false)
                #expect(refused.inclusion.map(\.ok) == [false])
                #expect(refused.consistency.map(\.ok) == [false])
                #expect(refused.leaves.map(\.ok) == [false])
            }
        }
    }
}
