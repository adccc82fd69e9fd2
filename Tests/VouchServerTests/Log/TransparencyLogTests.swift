import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwiftASN1
import Testing
import VouchCore
import VouchAPI
import VouchKit
@testable import VouchServer
import X509

@Suite("Transparency log")
struct TransparencyLogTests {
    /// Enrolls a device in a fresh claim-token group and returns the answer.
    static func enroll(_ client: any TestClientProtocol, admin: String, group: String = "log", headers: HTTPFields = [:]) async throws -> HTTPResult {
        let token = try await client.createGroup(group, apiKey: admin)
        let device = DeviceAgent()
        let body = try await device.enrollmentBody(nonce: try await client.nonce(), group: group, token: token)
        let result = try await client.call(.post, "/v1/enrollments", json: body, headers: headers)
        #expect(result.status == 201, "\(result.text)")
        return result
    }

    static func verifier(_ client: any TestClientProtocol) async throws -> NoteVerifier {
        try NoteVerifier(verifierKey: try await client.call(.get, "/v1/log/key").text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func theEnrollmentAnswerCarriesReceiptsThatVerifyOffline() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let answer = try await Self.enroll(client, admin: admin).json
                let verifier = try await Self.verifier(client)
                #expect(verifier.name == "vouch.test/vouch/log")
                let log = try #require(answer["log"])
                let receipts = try JSONDecoder().decode([LogReceipt].self, from: log["receipts"]!.jsonData())
                #expect(receipts.count == 2)
                #expect(UInt64(try #require(log["certificateIndex"]?.numberValue)) == receipts[0].index)
                #expect(UInt64(try #require(log["credentialIndex"]?.numberValue)) == receipts[1].index)
                let certificate = try Certificate(pemEncoded: try #require(answer["certificate"]?.stringValue))
                let serial = Hex.encode(certificate.serialNumber.bytes)
                for receipt in receipts {
                    guard case .success(let checkpoint) = receipt.verify(verifiers: [verifier]) else {
                        Issue.record("receipt \(receipt.index) does not verify: \(receipt.verify(verifiers: [verifier]))")
                        continue
                    }
                    #expect(checkpoint.origin == "vouch.test/vouch/log")
                }
                // The certificate's entry names its serial; the entry is the event's canonical JSON.
                let entry = try JSONValue(parsing: Data(receipts[0].entry.utf8))
                #expect(entry["kind"]?.stringValue == "certificate.issued")
                #expect(entry["data"]?["serial"]?.stringValue == serial)
                #expect(String(decoding: entry.canonicalJSON, as: UTF8.self) == receipts[0].entry)
                #expect(receipts[1].entry.contains("\"kind\":\"credential.issued\""))

                // An altered entry, proof or checkpoint does not verify.
                var altered = receipts[0]
                altered.entry = altered.entry.replacingOccurrences(of: serial, with: String(serial.reversed()))
                #expect((try? altered.verify(verifiers: [verifier]).get()) == nil)
                altered = receipts[0]
                altered.index += 1
                #expect((try? altered.verify(verifiers: [verifier]).get()) == nil)
                let other = try NoteSigner.generate(name: verifier.name)
                #expect((try? receipts[0].verify(verifiers: [other.verifier]).get()) == nil)

                // `Prefer: return=minimal` answers with the indexes alone.
                let minimal = try await Self.enroll(client, admin: admin, group: "minimal", headers: [HTTPField.Name("Prefer")!: "return=minimal"]).json
                #expect(minimal["log"]?["certificateIndex"]?.numberValue != nil)
                #expect(minimal["log"]?["receipts"] == nil)
            }
        }
    }

    @Test func proofsEntriesAndTilesAgreeWithATreeBuiltFromTheEntries() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                for group in 0..<3 {
                    _ = try await Self.enroll(client, admin: admin, group: "g\(group)")
                }
                let verifier = try await Self.verifier(client)
                let note = try await client.call(.get, "/v1/log/checkpoint")
                #expect(note.headers[.contentType] == "text/plain; charset=utf-8")
                let checkpoint = try Checkpoint.verify(signedNote: note.text, verifiers: [verifier]).get()
                #expect(checkpoint.size >= 12)

                // Rebuild the tree from the entries and compare everything the server says.
                let entries = try await client.call(.get, "/v1/log/entries?start=0&end=\(checkpoint.size)").json["entries"]!.arrayValue
                #expect(UInt64(entries.count) == checkpoint.size)
                var tree = MerkleTree()
                for (position, entry) in entries.enumerated() {
                    #expect(entry["index"]?.numberValue == Double(position))
                    tree.append(Array(try #require(entry["entry"]?.stringValue).utf8))
                }
                #expect(try tree.rootHash(size: checkpoint.size) == checkpoint.rootHash)
                for index in [0, 5, checkpoint.size - 1] {
                    let proof = try await client.call(.get, "/v1/log/proof/inclusion?index=\(index)").json
                    #expect(proof["inclusionProof"]?.arrayValue.compactMap(\.stringValue)
                        == (try tree.inclusionProof(leafIndex: index, treeSize: checkpoint.size)).hashes.map(\.base64EncodedString))
                    #expect(proof["checkpoint"]?.stringValue == note.text)
                    #expect(proof["leafHash"]?.stringValue == tree.leafHashes[Int(index)].base64EncodedString)
                }
                for from in [1, 3, checkpoint.size] {
                    let proof = try await client.call(.get, "/v1/log/proof/consistency?from=\(from)&to=\(checkpoint.size)").json
                    #expect(proof["proof"]?.arrayValue.compactMap(\.stringValue)
                        == (try tree.consistencyProof(oldSize: from, newSize: checkpoint.size)).hashes.map(\.base64EncodedString))
                }
                // C2SP tiles: the partial level-0 tile holds the leaf hashes; the entry bundle the entries.
                let width = Int(checkpoint.size)
                let tile = try await client.call(.get, "/v1/log/tile/0/000.p/\(width)")
                #expect(tile.status == 200)
                #expect(Array(tile.body) == tree.leafHashes.prefix(width).flatMap(\.bytes))
                let bundle = try await client.call(.get, "/v1/log/tile/entries/000.p/\(width)")
                var offset = 0
                var bundled: [String] = []
                let bytes = Array(bundle.body)
                while offset + 2 <= bytes.count {
                    let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
                    bundled.append(String(decoding: bytes[offset + 2..<offset + 2 + length], as: UTF8.self))
                    offset += 2 + length
                }
                #expect(bundled == entries.compactMap { $0["entry"]?.stringValue })

                // Requests the log cannot answer are refused with a problem a person can act on.
                expectProblem(try await client.call(.get, "/v1/log/tile/0/000"), 404, "does not hold tile/0/000")
                expectProblem(try await client.call(.get, "/v1/log/tile/0/0"), 404, "not a C2SP tlog-tiles path")
                expectProblem(try await client.call(.get, "/v1/log/entries?start=x"), 400, "non-negative integer")
                expectProblem(try await client.call(.get, "/v1/log/entries"), 400, "start is required")
                expectProblem(try await client.call(.get, "/v1/log/entries?start=0&end=5000"), 404, "beyond the log")
                expectProblem(try await client.call(.get, "/v1/log/proof/inclusion?index=\(checkpoint.size + 100)"), 404, "is not in the tree")
                expectProblem(try await client.call(.get, "/v1/log/proof/consistency?from=0"), 400, "1 ≤ from ≤ to")
                expectProblem(try await client.call(.get, "/v1/log/proof/consistency?from=1&to=99999"), 404, "beyond the log")
                expectProblem(try await client.call(.get, "/v1/log/pending"), 404, "no checkpoint awaits")
                expectProblem(try await client.call(.get, "/v1/log/entries?start=18446744073709551615"), 404, "beyond the log")
                expectProblem(try await client.call(.get, "/v1/log/tile/0/x018/x446/x744/x073/x709/x551/999"), 404, "not a C2SP tlog-tiles path")
            }
        }
    }

    /// The published checkpoint once it covers at least `size` entries (polled, with a deadline).
    static func checkpoint(_ client: any TestClientProtocol, covering size: UInt64, verifier: NoteVerifier) async throws -> Checkpoint {
        let deadline = ContinuousClock.now + .seconds(30)
        while true {
            let note = try await client.call(.get, "/v1/log/checkpoint")
            if note.status == 200, let checkpoint = try? Checkpoint.verify(signedNote: note.text, verifiers: [verifier]).get(), checkpoint.size >= size {
                return checkpoint
            }
            try #require(ContinuousClock.now < deadline, "no checkpoint covered \(size) entries within 30 s: \(note.text)")
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Compares the server's inclusion and consistency proofs and its hash tiles with a tree
    /// rebuilt from its entries, at every index and size of a log of `checkpoint.size` entries.
    static func expectProofsAgreeWithTheEntries(_ client: any TestClientProtocol, checkpoint: Checkpoint) async throws {
        let entries = try await client.call(.get, "/v1/log/entries?start=0&end=\(checkpoint.size)").json["entries"]!.arrayValue
        var tree = MerkleTree()
        for entry in entries { tree.append(Array(try #require(entry["entry"]?.stringValue).utf8)) }
        #expect(try tree.rootHash(size: checkpoint.size) == checkpoint.rootHash)
        for index in 0..<checkpoint.size {
            let proof = try await client.call(.get, "/v1/log/proof/inclusion?index=\(index)&size=\(checkpoint.size)").json
            #expect(proof["inclusionProof"]?.arrayValue.compactMap(\.stringValue)
                == (try tree.inclusionProof(leafIndex: index, treeSize: checkpoint.size)).hashes.map(\.base64EncodedString), "inclusion of \(index)")
        }
        for from in 1...checkpoint.size {
            let proof = try await client.call(.get, "/v1/log/proof/consistency?from=\(from)&to=\(checkpoint.size)").json
            #expect(proof["proof"]?.arrayValue.compactMap(\.stringValue)
                == (try tree.consistencyProof(oldSize: from, newSize: checkpoint.size)).hashes.map(\.base64EncodedString), "consistency from \(from)")
        }
        let width = Int(checkpoint.size)
        let tile = try await client.call(.get, "/v1/log/tile/0/000.p/\(width)")
        #expect(Array(tile.body) == tree.leafHashes.prefix(width).flatMap(\.bytes))
    }

    /// Proofs use the upper tree levels the server keeps in memory: those the sequencer stored
    /// as it appended and, after a restart, those it read back, each level filled in order.
    @Test func proofsFromTheUpperLevelsKeptInMemoryAgreeWithTheEntries() async throws {
        try await withDataDirectory { dir in
            let first = try await withServer(dataDirectory: dir) { client, admin in
                let verifier = try await Self.verifier(client)
                let start = try await Self.checkpoint(client, covering: 1, verifier: verifier).size
                // 70 events: levels 4 to 6 of the tree hold nodes.
                for group in 0..<70 { _ = try await client.createGroup("upper-\(group)", apiKey: admin) }
                let checkpoint = try await Self.checkpoint(client, covering: start + 70, verifier: verifier)
                try await Self.expectProofsAgreeWithTheEntries(client, checkpoint: checkpoint)
                return checkpoint.size
            }
            try await withServer(dataDirectory: dir) { client, admin in
                let verifier = try await Self.verifier(client)
                for group in 0..<20 { _ = try await client.createGroup("again-\(group)", apiKey: admin) }
                let checkpoint = try await Self.checkpoint(client, covering: first + 20, verifier: verifier)
                try await Self.expectProofsAgreeWithTheEntries(client, checkpoint: checkpoint)
            }
        }
    }

    @Test func aRestartedServerKeepsItsTreeAndKey() async throws {
        try await withDataDirectory { dir in
            let first = try await withServer(dataDirectory: dir) { client, admin in
                _ = try await Self.enroll(client, admin: admin)
                return try await client.call(.get, "/v1/log/checkpoint").text
            }
            try await withServer(dataDirectory: dir) { client, admin in
                let verifier = try await Self.verifier(client)
                let old = try Checkpoint.verify(signedNote: first, verifiers: [verifier]).get()
                _ = try await Self.enroll(client, admin: admin, group: "again")
                let new = try Checkpoint.verify(signedNote: try await client.call(.get, "/v1/log/checkpoint").text, verifiers: [verifier]).get()
                #expect(new.size > old.size)
                let proof = try await client.call(.get, "/v1/log/proof/consistency?from=\(old.size)&to=\(new.size)").json
                let hashes = try proof["proof"]!.arrayValue.map { try MerkleHash(base64Encoded: $0.stringValue!) }
                #expect(try ConsistencyProof(oldSize: old.size, newSize: new.size, hashes: hashes).verify(oldRoot: old.rootHash, newRoot: new.rootHash) == .valid)
            }
            // Without its key, a log that has published refuses to start rather than fork.
            try FileManager.default.removeItem(atPath: dir + "/keys/log.key")
            let refusal = await #expect(throws: ServerStartupError.self) {
                try await withServer(dataDirectory: dir) { _, _ in }
            }
            #expect(refusal?.description.contains("keys/log.key is missing, but the log has published checkpoints") == true, "\(String(describing: refusal))")
        }
    }

    @Test func witnessesCosignBeforeACheckpointIsPublished() async throws {
        let first = try CosignatureSigner.generate(name: "w1.test")
        let second = try CosignatureSigner.generate(name: "w2.test")
        let stranger = try CosignatureSigner.generate(name: "w1.test")
        // The server's clock runs at a twentieth of real time, so that the pending checkpoint's
        // 30-second hold cannot lapse however loaded the machine is (devices' signed times stay
        // well within the allowed skew).
        let start = Date()
        let slow: @Sendable () -> Date = { start.addingTimeInterval(Date().timeIntervalSince(start) / 20) }
        try await withDataDirectory { dir in
            try await withServer(
                dataDirectory: dir, witnesses: [first.verifier.verifierKey, second.verifier.verifierKey], witnessQuorum: 2, clock: slow
            ) { client, admin, _ in
                func pending() async throws -> SignedNote {
                    var answer = try await client.call(.get, "/v1/log/pending")
                    let deadline = ContinuousClock.now + .seconds(60)
                    while answer.status != 200, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(20))
                        answer = try await client.call(.get, "/v1/log/pending")
                    }
                    #expect(answer.status == 200)
                    return try SignedNote(parsing: answer.text)
                }
                let minimal: HTTPFields = [HTTPField.Name("Prefer")!: "return=minimal"]
                _ = try await Self.enroll(client, admin: admin, headers: minimal)
                let note = try await pending()
                // Nothing is published until two witnesses cosign.
                expectProblem(try await client.call(.get, "/v1/log/checkpoint"), 404, "no checkpoint yet")

                // Unknown keys are refused.
                let forged = try stranger.cosign(note, time: 1_800_000_000)
                expectProblem(try await client.call(.post, "/v1/log/cosignatures", body: Array(forged.serialized.utf8)), 403, "no valid cosignature")

                // The first witness cosigns; its line is kept, a bad line under the second's key is not.
                var cosigned = try first.cosign(note, time: UInt64(Date().timeIntervalSince1970))
                let bogus = SignedNote.Signature(keyName: second.verifier.name, keyID: second.verifier.keyID, signature: Array(repeating: 7, count: 72))
                cosigned = try SignedNote(text: cosigned.text, signatures: cosigned.signatures + [bogus])
                let one = try await client.call(.post, "/v1/log/cosignatures", body: Array(cosigned.serialized.utf8))
                #expect(one.status == 200, "\(one.text)")
                #expect(one.json["published"] == .bool(false))
                #expect(one.json["cosignatures"] == .number(1))

                // Traffic goes on; the pending checkpoint stays the same until it is published.
                _ = try await Self.enroll(client, admin: admin, group: "busy", headers: minimal)
                // Once the log holds entries past the pending checkpoint (the loop that stores them
                // is the one that would replace it), the pending checkpoint is still the same.
                let pendingSize = try #require(UInt64(note.text.split(separator: "\n")[1]))
                var beyond = try await client.call(.get, "/v1/log/entries?start=\(pendingSize)")
                let deadline = ContinuousClock.now + .seconds(30)
                while beyond.status == 404, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                    beyond = try await client.call(.get, "/v1/log/entries?start=\(pendingSize)")
                }
                #expect(beyond.status == 200, "\(beyond.text)")
                let again = try await pending()
                #expect(again.text == note.text)
                let two = try await client.call(
                    .post, "/v1/log/cosignatures", body: Array(try second.cosign(again, time: UInt64(Date().timeIntervalSince1970)).serialized.utf8))
                #expect(two.json["published"] == .bool(true), "\(two.text)")

                let verifier = try await Self.verifier(client)
                let published = try await client.call(.get, "/v1/log/checkpoint").text
                let parsed = try SignedNote(parsing: published)
                #expect(first.verifier.cosignatureTime(of: parsed) != nil)
                #expect(second.verifier.cosignatureTime(of: parsed) != nil)
                #expect(parsed.signatures.count == 3)
                #expect((try? Checkpoint.verify(signedNote: published, verifiers: [verifier]).get()) != nil)
                // A late cosignature of a published size is told so.
                expectProblem(try await client.call(.post, "/v1/log/cosignatures", body: Array(cosigned.serialized.utf8)), 409, "no longer pending")

                // The entries appended meanwhile get a checkpoint of their own to cosign.
                let next = try await pending()
                #expect(try Checkpoint(parsing: next.text).size > Checkpoint(parsing: note.text).size)
            }
        }
    }
}

@Suite("Transparency log: upper levels in memory")
struct UpperLevelsTests {
    static func node(_ level: Int, _ index: UInt64) -> (node: MerkleNode, hash: MerkleHash) {
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes[0] = UInt8(level)
        bytes[1] = UInt8(index & 0xFF)
        return (MerkleNode(level: level, index: index), try! MerkleHash(bytes: bytes))
    }

    @Test func eachLevelIsKeptInOrderFromIndexZero() throws {
        var upper = UpperLevels()
        upper.add([Self.node(3, 0), Self.node(4, 0), Self.node(4, 2), Self.node(5, 0)])
        // Below the floor, and past the end of a level's run, nothing is kept.
        #expect(upper.hash(of: MerkleNode(level: 3, index: 0)) == nil)
        #expect(upper.hash(of: MerkleNode(level: 4, index: 0)) == Self.node(4, 0).hash)
        #expect(upper.hash(of: MerkleNode(level: 4, index: 2)) == nil)
        #expect(upper.count(level: 4) == 1)
        #expect(upper.hash(of: MerkleNode(level: 5, index: 0)) == Self.node(5, 0).hash)
        // A tree of 64 entries stores 4 nodes at level 4, 2 at 5, 1 at 6: the first run missing is level 4's from 1.
        let missingRun = upper.missing(storedSize: 64, limit: 10)
        let missing = try #require(missingRun)
        #expect(missing.level == 4 && missing.first == 1 && missing.count == 3)
        upper.add(level: 4, from: 1, [Self.node(4, 1).hash, Self.node(4, 2).hash, Self.node(4, 3).hash])
        upper.add(level: 4, from: 9, [Self.node(4, 9).hash])
        #expect(upper.count(level: 4) == 4)
        #expect(upper.hashes(level: 4, from: 1, count: 3).map(Array.init) == [Self.node(4, 1).hash, Self.node(4, 2).hash, Self.node(4, 3).hash])
        #expect(upper.hashes(level: 4, from: 2, count: 3) == nil)
        let nextRun = upper.missing(storedSize: 64, limit: 10)
        let next = try #require(nextRun)
        #expect(next.level == 5 && next.first == 1 && next.count == 1)
        upper.add(level: 5, from: 1, [Self.node(5, 1).hash])
        upper.add([Self.node(6, 0)])
        let complete = upper.missing(storedSize: 64, limit: 10)
        #expect(complete == nil)
        let stillComplete = upper.missing(storedSize: 64 + 15, limit: 10)
        #expect(stillComplete == nil)
        let grownRun = upper.missing(storedSize: 80, limit: 10)
        let grown = try #require(grownRun)
        #expect(grown.level == 4 && grown.first == 4 && grown.count == 1)
    }

    @Test func theLowestLevelKeptRisesToStayWithinTheBudget() throws {
        // 1,024 entries keep 64 + 32 + … + 1 = 127 nodes from level 4 (4,064 bytes); a budget of
        // 4,000 bytes keeps level 5 up instead (63 nodes).
        #expect(UpperLevels.bytes(storedSize: 1024, from: 4) == 127 * 32)
        var upper = UpperLevels(budget: 4000)
        upper.add([Self.node(4, 0), Self.node(5, 0)])
        let missingRun = upper.missing(storedSize: 1024, limit: 100)
        let missing = try #require(missingRun)
        #expect(upper.lowest == 5)
        #expect(missing.level == 5 && missing.first == 1 && missing.count == 31)
        #expect(upper.hash(of: MerkleNode(level: 4, index: 0)) == nil)
        #expect(upper.hash(of: MerkleNode(level: 5, index: 0)) == Self.node(5, 0).hash)
    }
}
