import Foundation
import Testing
import VouchKit

/// C2SP signed notes and checkpoints: known answers, round trips, tampering and malformed input.
@Suite struct SignedNoteTests {
    // Known answers from golang.org/x/mod/sumdb/note, the reference implementation of c2sp.org/signed-note.
    static let peterSignerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let peterVerifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let enochVerifierKey = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
    static let peterText = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let peterSignature =
        "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    static let enochSignature =
        "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"

    @Test func referenceSignerKeyDerivesTheReferenceVerifierKey() throws {
        let signer = try NoteSigner(signerKey: Self.peterSignerKey)
        #expect(signer.name == "PeterNeumann")
        #expect(signer.keyID == 0xc74f_20a3)
        #expect(signer.verifierKey == Self.peterVerifierKey)
        #expect(signer.signerKey == Self.peterSignerKey)
        #expect(try NoteVerifier(verifierKey: Self.peterVerifierKey).verifierKey == Self.peterVerifierKey)
    }

    @Test func referenceNoteVerifies() throws {
        let message = Self.peterText + "\n" + Self.peterSignature
        let note = try SignedNote(parsing: message)
        #expect(note.text == Self.peterText)
        #expect(note.serialized == message)
        let verified = try note.verify(using: [NoteVerifier(verifierKey: Self.peterVerifierKey)]).get()
        #expect(verified.map(\.keyName) == ["PeterNeumann"])
    }

    @Test func referenceDoublySignedNoteVerifiesWithEitherKey() throws {
        let note = try SignedNote(parsing: Self.peterText + "\n" + Self.peterSignature + Self.enochSignature)
        let peter = try NoteVerifier(verifierKey: Self.peterVerifierKey)
        let enoch = try NoteVerifier(verifierKey: Self.enochVerifierKey)
        #expect(try note.verify(using: [enoch]).get().map(\.keyName) == ["EnochRoot"])
        #expect(try note.verify(using: [peter, enoch]).get().map(\.keyName) == ["PeterNeumann", "EnochRoot"])
    }

    #if os(Linux)
    // swift-crypto on Linux signs Ed25519 deterministically (RFC 8032); CryptoKit randomizes.
    @Test func signingReproducesTheReferenceSignature() throws {
        let note = try NoteSigner(signerKey: Self.peterSignerKey).sign(Self.peterText)
        #expect(note.serialized == Self.peterText + "\n" + Self.peterSignature)
    }
    #endif

    @Test func specificationExampleParses() throws {
        // The example of c2sp.org/signed-note; its public key is not published, so only the
        // structure can be checked, and no trusted key means no verification.
        let message = """
            Ognuno sta solo sul cuor della terra
            trafitto da un raggio di sole:

            ed è subito sera.

            — quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=

            """
        let note = try SignedNote(parsing: message)
        #expect(note.text == "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n")
        #expect(note.signatures.count == 1)
        #expect(note.signatures[0].keyName == "quasimodo.example/salvatore")
        #expect(note.signatures[0].keyID == 0x367b_a04b)
        #expect(note.signatures[0].signature.count == 64)
        #expect(note.serialized == message)
        #expect(throws: NoteRejection.self) { try note.verify(using: [NoteVerifier(verifierKey: Self.peterVerifierKey)]).get() }
    }

    @Test func generatedKeysRoundTrip() throws {
        let signer = try NoteSigner.generate(name: "example.com/log")
        let reparsed = try NoteSigner(signerKey: signer.signerKey)
        #expect(reparsed.verifierKey == signer.verifierKey)
        let verifier = try NoteVerifier(verifierKey: signer.verifierKey)
        #expect(verifier == signer.verifier)
        let note = try reparsed.sign("hello\n\nworld\n")
        let parsed = try SignedNote(parsing: note.serialized)
        #expect(parsed == note)
        #expect(try parsed.verify(using: [verifier]).get().count == 1)
    }

    @Test func tamperedTextIsRejected() throws {
        let signer = try NoteSigner.generate(name: "example.com/log")
        let message = try signer.sign("size 10\n").serialized
        let tampered = try SignedNote(parsing: message.replacingOccurrences(of: "size 10", with: "size 11"))
        let result = tampered.verify(using: [signer.verifier])
        #expect(throws: NoteRejection.self) { try result.get() }
        #expect(result.rejectionReasons == ["the signature by trusted key example.com/log+\(Self.hex(signer.keyID)) does not verify"])
    }

    @Test func tamperedSignatureIsRejected() throws {
        let signer = try NoteSigner.generate(name: "example.com/log")
        let note = try signer.sign("text\n")
        var bytes = note.signatures[0].signature
        bytes[10] ^= 0x01
        let forged = try SignedNote(text: note.text, signatures: [.init(keyName: signer.name, keyID: signer.keyID, signature: bytes)])
        #expect(throws: NoteRejection.self) { try SignedNote(parsing: forged.serialized).verify(using: [signer.verifier]).get() }
    }

    @Test func wrongKeyIsRejected() throws {
        let signer = try NoteSigner.generate(name: "example.com/log")
        let other = try NoteSigner.generate(name: "example.com/log")
        let note = try signer.sign("text\n")
        let result = note.verify(using: [other.verifier])
        #expect(result.rejectionReasons.count == 1)
        #expect(result.rejectionReasons.first?.hasPrefix("the note has no signature by a trusted key") == true)
        #expect(throws: NoteRejection.self) { try note.verify(using: []).get() }
    }

    @Test func unknownKeySignaturesAreIgnored() throws {
        let log = try NoteSigner.generate(name: "example.com/log")
        let witness = try NoteSigner.generate(name: "witness.example")
        let note = try witness.cosign(log.sign("text\n"))
        #expect(note.signatures.map(\.keyName) == ["example.com/log", "witness.example"])
        #expect(try note.verify(using: [log.verifier]).get().map(\.keyName) == ["example.com/log"])
        // A bad signature from an unknown key does not matter either.
        let garbage = SignedNote.Signature(keyName: "stranger", keyID: 1, signature: [UInt8](repeating: 7, count: 64))
        let noisy = try SignedNote(text: note.text, signatures: note.signatures + [garbage])
        #expect(try noisy.verify(using: [log.verifier, witness.verifier]).get().count == 2)
    }

    @Test func knownKeyWithBadSignatureRejectsTheWholeNote() throws {
        let log = try NoteSigner.generate(name: "example.com/log")
        let witness = try NoteSigner.generate(name: "witness.example")
        let note = try log.sign("text\n")
        let bad = SignedNote.Signature(keyName: witness.name, keyID: witness.keyID, signature: [UInt8](repeating: 1, count: 64))
        let mixed = try SignedNote(text: note.text, signatures: note.signatures + [bad])
        #expect(throws: NoteRejection.self) { try mixed.verify(using: [log.verifier, witness.verifier]).get() }
    }

    @Test func cosigningReplacesTheSignersEarlierSignature() throws {
        let log = try NoteSigner.generate(name: "example.com/log")
        let once = try log.sign("text\n")
        let twice = try log.cosign(once)
        #expect(twice.signatures.count == 1)
    }

    @Test(arguments: [
        "",
        "no signatures\n",
        "text\n\n",
        "text\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=",
        "text\n\n- PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "text\n\n—PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "text\n\n— PeterNeumann\n",
        "text\n\n— PeterNeumann  x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "text\n\n— Peter+Neumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "text\n\n— PeterNeumann x08g\n",
        "text\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM\n",
        "text\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n\n",
        "text\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\nmore\n",
        "tab\there\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
        "text\r\n\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n",
    ])
    func malformedNotesAreRejected(message: String) {
        #expect(throws: VouchKitError.self) { try SignedNote(parsing: message) }
    }

    @Test func tooManySignaturesAreRejected() {
        let line = Self.peterSignature
        let message = Self.peterText + "\n" + String(repeating: line, count: SignedNote.maximumSignatureCount + 1)
        #expect(throws: VouchKitError.self) { try SignedNote(parsing: message) }
    }

    @Test(arguments: [
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a3+",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "Peter\u{00A0}Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+0xc74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWAA==",
        "PeterNeumann+c74f20a3+AhpcTQ==",
        "PeterNeumann+c74f20a3+Apc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq_LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW ",
    ])
    func malformedVerifierKeysAreRejected(key: String) {
        #expect(throws: VouchKitError.self) { try NoteVerifier(verifierKey: key) }
    }

    @Test(arguments: [
        "PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+Peter+Neumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKD=",
        "PRIVATE+KEY+PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    ])
    func malformedSignerKeysAreRejected(key: String) {
        #expect(throws: VouchKitError.self) { try NoteSigner(signerKey: key) }
    }

    @Test func badKeyNamesCannotSign() {
        for name in ["", "a+b", "a b", "a\tb", "a\u{2003}b"] {
            #expect(throws: VouchKitError.self) { try NoteSigner.generate(name: name) }
        }
    }

    @Test func textMustEndInNewline() throws {
        let signer = try NoteSigner.generate(name: "example.com/log")
        #expect(throws: VouchKitError.self) { try signer.sign("no newline") }
        #expect(throws: VouchKitError.self) { try signer.sign("bell\u{07}\n") }
    }

    private static func hex(_ id: UInt32) -> String {
        let digits = String(id, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}

extension Result where Failure == NoteRejection {
    /// The rejection reasons, or none when the result is a success.
    fileprivate var rejectionReasons: [String] {
        if case .failure(let rejection) = self { rejection.reasons } else { [] }
    }
}
