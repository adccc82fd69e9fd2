import Foundation
import Testing

extension CLITests {
    /// Proofs from the transparency-dev/merkle test vectors (Apache 2.0), also in
    /// `Tests/VouchKitTests/Vectors/merkle/` with their LICENSE.
    @Suite("log")
    struct Log {
        struct Inclusion: Sendable, CustomTestStringConvertible {
            let vector: String
            let leafHash: String
            let index: Int
            let size: Int
            let root: String
            let proof: [String]
            let expectedStatus: Int32

            var testDescription: String { vector }

            var arguments: [String] {
                [
                    "log", "verify-inclusion", "--leaf-hash", leafHash, "--index", String(index), "--size", String(size),
                    "--root", root, "--proof", proof.joined(separator: ","),
                ]
            }

            /// The same case with every hash in hex.
            func hex() throws -> Inclusion {
                Inclusion(
                    vector: vector + " (hex)", leafHash: try Hex.fromBase64(leafHash), index: index, size: size,
                    root: try Hex.fromBase64(root), proof: try proof.map(Hex.fromBase64), expectedStatus: expectedStatus)
            }
        }

        static let root8 = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="
        static let leaf0 = "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0="
        static let proof0of8 = [
            "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
            "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
            "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
        ]

        static let inclusions: [Inclusion] = [
            Inclusion(vector: "inclusion/0/happy-path", leafHash: leaf0, index: 0, size: 1, root: leaf0, proof: [], expectedStatus: 0),
            Inclusion(vector: "inclusion/1/happy-path", leafHash: leaf0, index: 0, size: 8, root: root8, proof: proof0of8, expectedStatus: 0),
            Inclusion(
                vector: "inclusion/2/happy-path", leafHash: "QnGia+DYqE8L1UyMMC58s6O10fpngKQLzOKHNHfatlg=", index: 5, size: 8, root: root8,
                proof: [
                    "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=",
                    "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
                    "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
                ], expectedStatus: 0),
            Inclusion(
                vector: "inclusion/3/happy-path", leafHash: "ApjRIpBtz8EIkstTpzmS/FufST6kybrbJ7eRtBJ6f+c=", index: 2, size: 3,
                root: "rra8/idLcKFPsGel5VeCZNsPqbUa9eC6FZFY8yngbnc=", proof: ["+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU="],
                expectedStatus: 0),
            // wantErr vectors whose hashes are all well-formed: the proof does not verify.
            Inclusion(
                vector: "inclusion/1/modified-proof[0]-bit-@3", leafHash: leaf0, index: 0, size: 8, root: root8,
                proof: ["nqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="] + proof0of8.dropFirst(), expectedStatus: 1),
            Inclusion(vector: "inclusion/1/leafIdx-plus-@1", leafHash: leaf0, index: 1, size: 8, root: root8, proof: proof0of8, expectedStatus: 1),
            Inclusion(vector: "inclusion/1/treeSize-div-@2", leafHash: leaf0, index: 0, size: 4, root: root8, proof: proof0of8, expectedStatus: 1),
            Inclusion(vector: "inclusion/1/treeSize-mul-@2", leafHash: leaf0, index: 0, size: 16, root: root8, proof: proof0of8, expectedStatus: 1),
            Inclusion(
                vector: "inclusion/1/random-root", leafHash: leaf0, index: 0, size: 8,
                root: "q6yroAAAAAAAAAAAAAAAAAAAAAAAAAAAAGAGHgASNFY=", proof: proof0of8, expectedStatus: 1),
            Inclusion(
                vector: "inclusion/1/empty-root", leafHash: leaf0, index: 0, size: 8,
                root: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", proof: proof0of8, expectedStatus: 1),
            Inclusion(
                vector: "inclusion/1/removed-component", leafHash: leaf0, index: 0, size: 8, root: root8,
                proof: Array(proof0of8.dropLast()), expectedStatus: 1),
            Inclusion(
                vector: "inclusion/1/inserted-component", leafHash: leaf0, index: 0, size: 8, root: root8,
                proof: proof0of8 + [root8], expectedStatus: 1),
            Inclusion(vector: "index not below size", leafHash: leaf0, index: 9, size: 8, root: root8, proof: proof0of8, expectedStatus: 1),
            Inclusion(vector: "empty tree", leafHash: leaf0, index: 0, size: 0, root: leaf0, proof: [], expectedStatus: 1),
        ]

        @Test(arguments: inclusions)
        func verifyInclusionWithBase64Hashes(_ inclusion: Inclusion) async throws {
            try await Self.expect(inclusion)
        }

        @Test(arguments: inclusions)
        func verifyInclusionWithHexHashes(_ inclusion: Inclusion) async throws {
            try await Self.expect(try inclusion.hex())
        }

        @Test func acceptsURLSafeUnpaddedBase64AndUppercaseHex() async throws {
            let urlSafe = Self.root8.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(urlSafe.contains("-") || urlSafe.contains("_"))
            try await Self.expect(
                Inclusion(
                    vector: "inclusion/1/happy-path (URL-safe root, uppercase hex leaf)", leafHash: try Hex.fromBase64(Self.leaf0).uppercased(),
                    index: 0, size: 8, root: urlSafe, proof: Self.proof0of8, expectedStatus: 0))
        }

        private static func expect(_ inclusion: Inclusion, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let outcome = try await vouch.run(inclusion.arguments)
                outcome.expectExit(inclusion.expectedStatus, sourceLocation: sourceLocation)
                if inclusion.expectedStatus == 0 {
                    #expect(outcome.standardOutput.hasPrefix("OK "), "\(outcome)", sourceLocation: sourceLocation)
                    #expect(outcome.standardError.isEmpty, "\(outcome)", sourceLocation: sourceLocation)
                } else {
                    #expect(outcome.standardOutput.isEmpty, "\(outcome)", sourceLocation: sourceLocation)
                    #expect(outcome.standardError.hasPrefix("FAIL "), "\(outcome)", sourceLocation: sourceLocation)
                }
            }
        }

        @Test func malformedInclusionHashesAreUsageErrors() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let proof = Self.proof0of8.joined(separator: ",")
                let cases: [(leaf: String, root: String, proof: String, option: String)] = [
                    ("V3JvbmdMZWFm", Self.root8, proof, "--leaf-hash"),  // inclusion/1/wrong-leaf: 9 bytes
                    (Self.leaf0, "zz", proof, "--root"),
                    (Self.leaf0, String(repeating: "a", count: 63), proof, "--root"),
                    (Self.leaf0, String(repeating: "g", count: 64), proof, "--root"),
                    (Self.leaf0, String(repeating: "ab", count: 33), proof, "--root"),
                    (Self.leaf0, Self.root8, proof + ",", "--proof"),
                    (Self.leaf0, Self.root8, "," + proof, "--proof"),
                    (Self.leaf0, Self.root8, proof + ",not-a-hash", "--proof"),
                    ("", Self.root8, proof, "--leaf-hash"),
                ]
                for item in cases {
                    let outcome = try await vouch.run(
                        "log", "verify-inclusion", "--leaf-hash", item.leaf, "--index", "0", "--size", "8",
                        "--root", item.root, "--proof", item.proof)
                    outcome.expectUsageError(mentioning: item.option)
                }
                for (index, size) in [("-1", "8"), ("x", "8"), ("0", "-8"), ("0", "eight")] {
                    let outcome = try await vouch.run(
                        "log", "verify-inclusion", "--leaf-hash", Self.leaf0, "--index=\(index)", "--size=\(size)",
                        "--root", Self.root8, "--proof", proof)
                    outcome.expectUsageError()
                }
                try await vouch.run("log", "verify-inclusion", "--leaf-hash", Self.leaf0, "--index", "0", "--size", "8", "--root", Self.root8)
                    .expectUsageError(mentioning: "--proof")
            }
        }

        struct Consistency: Sendable, CustomTestStringConvertible {
            let vector: String
            let oldSize: Int
            let oldRoot: String
            let size: Int
            let root: String
            let proof: [String]
            let expectedStatus: Int32

            var testDescription: String { vector }
        }

        static let consistencies: [Consistency] = [
            Consistency(vector: "consistency/0/happy-path", oldSize: 1, oldRoot: leaf0, size: 1, root: leaf0, proof: [], expectedStatus: 0),
            Consistency(vector: "consistency/1/happy-path", oldSize: 1, oldRoot: leaf0, size: 8, root: root8, proof: proof0of8, expectedStatus: 0),
            Consistency(
                vector: "consistency/2/happy-path", oldSize: 6, oldRoot: "duZ9rbzfHhDht03cYIq9L5jfsW+851J3tSMqEn8gh+8=", size: 8, root: root8,
                proof: [
                    "DrxdNDf74tsVi58Sah0RjjCBgQMdCpSfje3t68VY72o=",
                    "yoVOoSjtBQtBs1/8G4e46yveRh6eO1WW7Oa51ZdaCuA=",
                    "037kGJdt2VdTwcc4Yrk5j6Kiz5tP8P3+izDNlSCWFLc=",
                ], expectedStatus: 0),
            Consistency(
                vector: "consistency/3/happy-path", oldSize: 2, oldRoot: "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=", size: 5,
                root: "Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=",
                proof: ["Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=", "vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms="], expectedStatus: 0),
            Consistency(vector: "consistency/1/swapped-roots", oldSize: 1, oldRoot: root8, size: 8, root: leaf0, proof: proof0of8, expectedStatus: 1),
            Consistency(
                vector: "consistency/1/modified-proof@0-bit-@4", oldSize: 1, oldRoot: leaf0, size: 8, root: root8,
                proof: ["hqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="] + proof0of8.dropFirst(), expectedStatus: 1),
            Consistency(vector: "consistency/1/empty-proof", oldSize: 1, oldRoot: leaf0, size: 8, root: root8, proof: [], expectedStatus: 1),
            Consistency(
                vector: "consistency/1/truncated-proof", oldSize: 1, oldRoot: leaf0, size: 8, root: root8, proof: Array(proof0of8.dropLast()),
                expectedStatus: 1),
            Consistency(vector: "consistency/1/size2-mul-@2", oldSize: 1, oldRoot: leaf0, size: 16, root: root8, proof: proof0of8, expectedStatus: 1),
            Consistency(vector: "old size above new size", oldSize: 9, oldRoot: leaf0, size: 8, root: root8, proof: proof0of8, expectedStatus: 1),
            Consistency(vector: "equal sizes, different roots", oldSize: 8, oldRoot: leaf0, size: 8, root: root8, proof: [], expectedStatus: 1),
        ]

        @Test(arguments: consistencies)
        func verifyConsistency(_ consistency: Consistency) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                for hex in [false, true] {
                    func encode(_ hash: String) throws -> String { hex ? try Hex.fromBase64(hash) : hash }
                    let outcome = try await vouch.run(
                        "log", "verify-consistency", "--old-size", String(consistency.oldSize), "--old-root", try encode(consistency.oldRoot),
                        "--size", String(consistency.size), "--root", try encode(consistency.root),
                        "--proof", try consistency.proof.map(encode).joined(separator: ","))
                    outcome.expectExit(consistency.expectedStatus)
                    if consistency.expectedStatus == 0 {
                        #expect(outcome.standardOutput.hasPrefix("OK "), "\(outcome)")
                    } else {
                        #expect(outcome.standardOutput.isEmpty, "\(outcome)")
                        #expect(outcome.standardError.hasPrefix("FAIL "), "\(outcome)")
                    }
                }
            }
        }

        @Test func malformedConsistencyHashesAreUsageErrors() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                let proof = Self.proof0of8.joined(separator: ",")
                // consistency/1/wrong-root2: "WrongRoot", 9 bytes.
                try await vouch.run(
                    "log", "verify-consistency", "--old-size", "1", "--old-root", Self.leaf0, "--size", "8", "--root", "V3JvbmdSb290",
                    "--proof", proof
                ).expectUsageError(mentioning: "--root")
                try await vouch.run(
                    "log", "verify-consistency", "--old-size", "1", "--old-root", "nope", "--size", "8", "--root", Self.root8,
                    "--proof", proof
                ).expectUsageError(mentioning: "--old-root")
                try await vouch.run(
                    "log", "verify-consistency", "--old-size", "1", "--old-root", Self.leaf0, "--size", "8", "--root", Self.root8,
                    "--proof", proof + ",,"
                ).expectUsageError(mentioning: "--proof")
                try await vouch.run(
                    "log", "verify-consistency", "--old-size", "1", "--old-root", Self.leaf0, "--size", "8", "--root", Self.root8
                ).expectUsageError(mentioning: "--proof")
            }
        }

        // MARK: verify-checkpoint

        /// The Go checksum database's published verifier key (built into the `go` command).
        static let sumDBKey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"

        /// A checkpoint signed by sum.golang.org, as served by the Go checksum database. The CLI
        /// cannot sign checkpoints, so this real one stands in; it verifies under ``sumDBKey``.
        static let sumDBCheckpoint = """
            go.sum database tree
            63096908
            8lHrQPRYe4KT4WQ9/Qk8/taKnD6IRHbFgfN7vQE2Y54=

            \u{2014} sum.golang.org Az3gri/oVBN1jAhNZ/iS+W31psFAWRT20/GyrhpU6taFwulQGetBkH5S7wpGXdS935jiIGiUUAXBVHzT/P6fYhqAmAk=

            """

        /// The verifier key of the signed-note example in golang.org/x/mod/sumdb/note.
        static let peterNeumannKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"

        /// The signed-note example of golang.org/x/mod/sumdb/note: validly signed, but not a checkpoint.
        static let peterNeumannNote = """
            If you think cryptography is the answer to your problem,
            then you don't know what your problem is.

            \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=

            """

        @Test func verifiesARealSignedCheckpoint() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(Self.sumDBCheckpoint, to: "checkpoint")
                let expected = [
                    "OK checkpoint verified",
                    "origin: go.sum database tree",
                    "size: 63096908",
                    "root: 8lHrQPRYe4KT4WQ9/Qk8/taKnD6IRHbFgfN7vQE2Y54=",
                ]
                let outcome = try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "checkpoint")
                outcome.expectExit(0)
                #expect(outcome.outputLines == expected)
                #expect(outcome.standardError.isEmpty)

                let fromStandardInput = try await vouch.run(
                    ["log", "verify-checkpoint", "--key", Self.sumDBKey, "-"], standardInput: Data(Self.sumDBCheckpoint.utf8))
                fromStandardInput.expectExit(0)
                #expect(fromStandardInput.outputLines == expected)

                // Any one trusted key that signed it is enough.
                let twoKeys = try await vouch.run(
                    "log", "verify-checkpoint", "--key", Self.peterNeumannKey, "--key", Self.sumDBKey, "checkpoint")
                twoKeys.expectExit(0)
            }
        }

        @Test func failsForAnAlteredCheckpoint() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(Self.sumDBCheckpoint.replacingOccurrences(of: "63096908", with: "63096909"), to: "checkpoint")
                let outcome = try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "checkpoint")
                outcome.expectVerificationFailure(mentioning: "sum.golang.org")
            }
        }

        @Test func failsWithoutASignatureByATrustedKey() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(Self.sumDBCheckpoint, to: "checkpoint")
                let outcome = try await vouch.run("log", "verify-checkpoint", "--key", Self.peterNeumannKey, "checkpoint")
                outcome.expectVerificationFailure(mentioning: "trusted")
            }
        }

        @Test func failsForASignedNoteThatIsNotACheckpointOrNotANote() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(Self.peterNeumannNote, to: "note")
                try await vouch.run("log", "verify-checkpoint", "--key", Self.peterNeumannKey, "note")
                    .expectVerificationFailure(mentioning: "checkpoint")
                try vouch.write("garbage\n", to: "garbage")
                try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "garbage")
                    .expectVerificationFailure(mentioning: "checkpoint")
                try vouch.write(String(Self.sumDBCheckpoint.prefix(100)), to: "truncated")
                try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "truncated")
                    .expectVerificationFailure(mentioning: "checkpoint")
            }
        }

        @Test func anUnusableKeyOrFileIsAUsageError() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write(Self.sumDBCheckpoint, to: "checkpoint")
                try vouch.write(Data([0xFF, 0xFE, 0x0A]), to: "binary")
                let badKeys = [
                    "not-a-key",
                    "sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",  // key ID does not match
                    "sum.golang.org+033de0ae+Ac4zctda0e5eza",  // key too short
                    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8!",
                    "+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
                ]
                for key in badKeys {
                    try await vouch.run("log", "verify-checkpoint", "--key", key, "checkpoint").expectUsageError(mentioning: "--key")
                }
                try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "missing").expectUsageError(mentioning: "missing")
                try await vouch.run("log", "verify-checkpoint", "--key", Self.sumDBKey, "binary").expectUsageError()
                try await vouch.run("log", "verify-checkpoint", "checkpoint").expectUsageError(mentioning: "--key")
            }
        }
    }
}
