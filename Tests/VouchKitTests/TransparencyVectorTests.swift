import Foundation
import Testing
import VouchKit

/// RFC 6962 / RFC 9162 proof verification against the transparency-dev/merkle test vectors
/// (`Vectors/merkle`, Apache-2.0, LICENSE beside them).
@Suite struct TransparencyVectorTests {
    private struct InclusionVector: Decodable {
        let leafIdx: UInt64
        let treeSize: UInt64
        let root: String
        let leafHash: String
        let proof: [String]?
        let desc: String
        let wantErr: Bool
    }

    private struct ConsistencyVector: Decodable {
        let size1: UInt64
        let size2: UInt64
        let root1: String
        let root2: String
        let proof: [String]?
        let desc: String
        let wantErr: Bool
    }

    /// How a vector came out: accepted, rejected by the verdict, or rejected as malformed input.
    private enum Outcome: Equatable {
        case accepted
        case rejected(String)
    }

    @Test func inclusionProofsMatchTheVectors() throws {
        let files = try Self.vectorFiles(in: "merkle/inclusion")
        #expect(files.count > 0)
        var accepted = 0
        var rejected = 0
        for file in files {
            let vector = try JSONDecoder().decode(InclusionVector.self, from: Data(contentsOf: file))
            let outcome = Self.outcome {
                let proof = InclusionProof(
                    leafIndex: vector.leafIdx,
                    treeSize: vector.treeSize,
                    hashes: try (vector.proof ?? []).map(Self.hash)
                )
                return try proof.verify(leafHash: Self.hash(vector.leafHash), rootHash: Self.hash(vector.root))
            }
            if vector.wantErr {
                #expect(outcome != .accepted, "\(file.path): \(vector.desc) should be rejected")
                rejected += 1
            } else {
                #expect(outcome == .accepted, "\(file.path): \(vector.desc) should verify")
                accepted += 1
            }
        }
        #expect(accepted > 0 && rejected > 0)
    }

    @Test func consistencyProofsMatchTheVectors() throws {
        let files = try Self.vectorFiles(in: "merkle/consistency")
        #expect(files.count > 0)
        var accepted = 0
        var rejected = 0
        for file in files {
            let vector = try JSONDecoder().decode(ConsistencyVector.self, from: Data(contentsOf: file))
            let outcome = Self.outcome {
                let proof = ConsistencyProof(
                    oldSize: vector.size1,
                    newSize: vector.size2,
                    hashes: try (vector.proof ?? []).map(Self.hash)
                )
                return try proof.verify(oldRoot: Self.hash(vector.root1), newRoot: Self.hash(vector.root2))
            }
            if vector.wantErr {
                #expect(outcome != .accepted, "\(file.path): \(vector.desc) should be rejected")
                rejected += 1
            } else if file.path.hasSuffix(Self.placeholderHappyVector) {
                // Same check with real 32-byte roots: equal sizes, empty proof, equal roots.
                #expect(outcome != .accepted)
                let root = MerkleHash.leafHash(Array(vector.root1.utf8))
                let proof = ConsistencyProof(oldSize: vector.size1, newSize: vector.size2, hashes: [])
                #expect(try proof.verify(oldRoot: root, newRoot: root) == .valid)
                accepted += 1
            } else {
                #expect(outcome == .accepted, "\(file.path): \(vector.desc) should verify")
                accepted += 1
            }
        }
        #expect(accepted > 0 && rejected > 0)
    }

    /// The one happy vector that VouchKit rejects on purpose. Its roots are 12-byte placeholders
    /// ("don't care 2"), which transparency-dev/merkle compares as opaque bytes when the sizes are
    /// equal; a ``MerkleHash`` is always a 32-byte SHA-256 value, so it cannot be built from them.
    private static let placeholderHappyVector = "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json"

    @Test func rootFromInclusionProofRebuildsTheVectorRoot() throws {
        // inclusion/1/happy-path.json: leaf 0 of the 8-leaf reference tree.
        let proof = InclusionProof(
            leafIndex: 0,
            treeSize: 8,
            hashes: try [
                "lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c=",
                "Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4=",
                "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=",
            ].map(Self.hash)
        )
        let leaf = try Self.hash("bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=")
        #expect(try proof.root(forLeafHash: leaf) == Self.hash("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg="))
    }

    @Test func emptyTreeRootIsTheHashOfNothing() {
        #expect(MerkleHash.emptyTreeRoot.description == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(MerkleHash.root(ofLeafHashes: []) == MerkleHash.emptyTreeRoot)
    }

    @Test func leafAndNodeHashesAreDomainSeparated() throws {
        // RFC 6962 reference tree, leaf 0 is the empty string: SHA-256(0x00).
        #expect(MerkleHash.leafHash([UInt8]()).description == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
        let leaf = MerkleHash.leafHash([0x00])
        #expect(MerkleHash.nodeHash(leaf, leaf) != MerkleHash.leafHash(leaf.bytes + leaf.bytes))
    }

    @Test func malformedHashesAreRejected() {
        #expect(throws: VouchKitError.self) { try MerkleHash(bytes: [UInt8](repeating: 0, count: 31)) }
        #expect(throws: VouchKitError.self) { try MerkleHash(base64Encoded: "ZG9uJ3QgY2FyZSAy") }
        #expect(throws: VouchKitError.self) { try MerkleHash(base64Encoded: "bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0") }
    }

    // MARK: - Helpers

    private static func vectorFiles(in folder: String) throws -> [URL] {
        let root = try #require(Bundle.module.url(forResource: "Vectors", withExtension: nil))
        let directory = root.appendingPathComponent(folder, isDirectory: true)
        let enumerator = try #require(FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil))
        return enumerator.compactMap { $0 as? URL }
            .filter { $0.pathExtension == "json" }
            .sorted { $0.path < $1.path }
    }

    private static func hash(_ base64: String) throws -> MerkleHash {
        let bytes = try #require(Data(base64Encoded: base64), "vector hash \(base64) is not base64")
        return try MerkleHash(bytes: bytes)
    }

    private static func outcome(_ check: () throws -> MerkleProofVerdict) -> Outcome {
        do {
            switch try check() {
            case .valid: return .accepted
            case .invalid(let reason): return .rejected(reason)
            }
        } catch {
            return .rejected("\(error)")
        }
    }
}
