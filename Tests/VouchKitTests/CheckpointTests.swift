import Foundation
import Testing
import VouchKit

/// c2sp.org/tlog-checkpoint parsing, serialization and signed verification.
@Suite struct CheckpointTests {
    static let specExampleText = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"

    /// The Go checksum database's published verifier key (built into the `go` command).
    static let sumDBKey = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"

    /// A checkpoint signed by sum.golang.org, as the Go checksum database served it.
    static let sumDBCheckpoint = """
        go.sum database tree
        63096908
        8lHrQPRYe4KT4WQ9/Qk8/taKnD6IRHbFgfN7vQE2Y54=

        \u{2014} sum.golang.org Az3gri/oVBN1jAhNZ/iS+W31psFAWRT20/GyrhpU6taFwulQGetBkH5S7wpGXdS935jiIGiUUAXBVHzT/P6fYhqAmAk=

        """

    @Test func realSumDBCheckpointVerifies() throws {
        let verifier = try NoteVerifier(verifierKey: Self.sumDBKey)
        let checkpoint = try Checkpoint.verify(signedNote: Self.sumDBCheckpoint, verifiers: [verifier]).get()
        #expect(checkpoint.origin == "go.sum database tree")
        #expect(checkpoint.size == 63_096_908)
        #expect(checkpoint.rootHash.base64EncodedString == "8lHrQPRYe4KT4WQ9/Qk8/taKnD6IRHbFgfN7vQE2Y54=")
        let altered = Self.sumDBCheckpoint.replacingOccurrences(of: "63096908", with: "63096909")
        #expect(throws: NoteRejection.self) { try Checkpoint.verify(signedNote: altered, verifiers: [verifier]).get() }
    }

    @Test func specificationExampleParsesAndRoundTrips() throws {
        let checkpoint = try Checkpoint(parsing: Self.specExampleText)
        #expect(checkpoint.origin == "example.com/behind-the-sofa")
        #expect(checkpoint.size == 20_852_163)
        #expect(checkpoint.rootHash.base64EncodedString == "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=")
        #expect(checkpoint.extensionLines.isEmpty)
        #expect(checkpoint.text == Self.specExampleText)
    }

    @Test func extensionLinesAreKept() throws {
        let text = Self.specExampleText + "ext one\next two\n"
        let checkpoint = try Checkpoint(parsing: text)
        #expect(checkpoint.extensionLines == ["ext one", "ext two"])
        #expect(checkpoint.text == text)
    }

    @Test func emptyTreeHasSizeZero() throws {
        let text = "log\n0\n\(MerkleHash.emptyTreeRoot.base64EncodedString)\n"
        #expect(try Checkpoint(parsing: text).size == 0)
    }

    @Test(arguments: [
        "",
        "example.com/log\n",
        "example.com/log\n5\n",
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=",
        "\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n05\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n00\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n+5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n-5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n 5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n18446744073709551616\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n",
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n",
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2=\n",
        "example.com/log\n5\nZG9uJ3QgY2FyZSAy\n",
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n",
        "example.com/log\n5\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\next\n\n",
    ])
    func malformedCheckpointsAreRejected(text: String) {
        #expect(throws: VouchKitError.self) { try Checkpoint(parsing: text) }
    }

    @Test func signedCheckpointVerifies() throws {
        let signer = try NoteSigner.generate(name: "example.com/log")
        let checkpoint = try Checkpoint(origin: "example.com/log", size: 3, rootHash: MerkleHash.leafHash([1, 2, 3]))
        let note = try signer.sign(checkpoint.text).serialized
        #expect(try Checkpoint.verify(signedNote: note, verifiers: [signer.verifier]).get() == checkpoint)
    }

    @Test func signedCheckpointWithWrongKeyIsRejected() throws {
        let signer = try NoteSigner.generate(name: "example.com/log")
        let stranger = try NoteSigner.generate(name: "example.com/log")
        let note = try signer.sign(Self.specExampleText).serialized
        #expect(throws: NoteRejection.self) { try Checkpoint.verify(signedNote: note, verifiers: [stranger.verifier]).get() }
        let tampered = note.replacingOccurrences(of: "20852163", with: "20852164")
        #expect(throws: NoteRejection.self) { try Checkpoint.verify(signedNote: tampered, verifiers: [signer.verifier]).get() }
    }

    @Test func signedNoteThatIsNotACheckpointIsMalformed() throws {
        let signer = try NoteSigner.generate(name: "example.com/log")
        let note = try signer.sign("just a note\n").serialized
        #expect(throws: VouchKitError.self) { try Checkpoint.verify(signedNote: note, verifiers: [signer.verifier]) }
    }
}
