import Foundation
import Testing
import VouchAPI
import VouchCore
import VouchKit

@testable import VouchServer

/// Answers that write their own JSON write exactly the bytes `JSONEncoder` writes for them.
@Suite struct DirectJSONTests {
    /// What the answers wrote before: JSONEncoder, sorted keys, slashes as they are.
    func encoded(_ bundle: EnrollmentBundle) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(bundle))
    }

    func direct(_ bundle: EnrollmentBundle) throws -> [UInt8] {
        var output: [UInt8] = []
        try bundle.writeJSON(into: &output)
        return output
    }

    @Test("an enrollment bundle with every member, and with the least it can have, byte for byte")
    func enrollmentBundle() throws {
        let awkward = "-----BEGIN CERTIFICATE-----\nMII/+AB\n-----END-----\n\"quoted\" back\\slash\ttab \u{1} é 🔑 \r"
        let hash = MerkleHash.leafHash([1, 2, 3])
        var full = EnrollmentBundle(
            deviceId: "dev_01", did: "did:key:z6Mk", state: "active",
            firmware: FirmwareVerdict(status: .good, sha256: "ab", version: "1.2/3", phase: .enrollment, detail: "known \"good\""),
            certificate: awkward, chain: awkward + awkward, identityCredential: "eyJ.a.b", roleCredentials: ["r1", awkward, ""],
            trustBundle: "eyJ.t.b",
            log: IssuanceLog(
                certificateIndex: 41, credentialIndex: 42,
                receipts: [LogReceipt(index: 41, entry: "{\"a\":1}", treeSize: 43, inclusionProof: [hash, hash], checkpoint: "origin\n43\nroot\n")])
        )
        #expect(try direct(full) == (try encoded(full)))
        full.log?.receipts = nil
        #expect(try direct(full) == (try encoded(full)))

        let least = EnrollmentBundle(deviceId: "dev_02", did: "did:key:z6Mk", state: "pending")
        #expect(try direct(least) == (try encoded(least)))
        let text = String(decoding: try direct(least), as: UTF8.self)
        #expect(text == #"{"deviceId":"dev_02","did":"did:key:z6Mk","roleCredentials":[],"state":"pending"}"#)
    }
}
