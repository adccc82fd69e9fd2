import Crypto
import Foundation
import Testing
import VouchKit
import VouchTesting

/// Standard Webhooks signatures: the spec's vector (from the official Python library's tests,
/// `Vectors/standard-webhooks`, Apache-2.0), v1a round trips, and what a receiver refuses.
@Suite("Standard Webhooks signatures")
struct StandardWebhookTests {
    struct Vector: Decodable {
        var secret: String
        var msg_id: String
        var timestamp: Int
        var payload: String
        var expected_signature: String
    }

    static func vector() throws -> Vector {
        try JSONDecoder().decode(Vector.self, from: try Vectors.data("standard-webhooks/vector.json"))
    }

    @Test func theSpecVectorSignsAndVerifies() throws {
        let vector = try Self.vector()
        let secret = try StandardWebhook.Secret(serialized: vector.secret)
        #expect(secret.serialized == vector.secret)
        let body = Array(vector.payload.utf8)
        #expect(StandardWebhook.signature(secret: secret, id: vector.msg_id, timestamp: vector.timestamp, body: body) == vector.expected_signature)
        let at = Date(timeIntervalSince1970: TimeInterval(vector.timestamp))
        let verifier = StandardWebhook.Verifier(secrets: [secret])
        #expect(throws: Never.self) {
            try verifier.verify(id: vector.msg_id, timestamp: String(vector.timestamp), signatures: vector.expected_signature, body: body, now: at)
        }
        // Any change to what is signed, or another secret, fails.
        let other = StandardWebhook.Verifier(secrets: [StandardWebhook.Secret.generate()])
        #expect(throws: StandardWebhook.Refusal.noMatchingSignature) { try other.verify(id: vector.msg_id, timestamp: String(vector.timestamp), signatures: vector.expected_signature, body: body, now: at) }
        #expect(throws: StandardWebhook.Refusal.noMatchingSignature) { try verifier.verify(id: vector.msg_id, timestamp: String(vector.timestamp), signatures: vector.expected_signature, body: body + [0x20], now: at) }
        #expect(throws: StandardWebhook.Refusal.noMatchingSignature) { try verifier.verify(id: vector.msg_id + "x", timestamp: String(vector.timestamp), signatures: vector.expected_signature, body: body, now: at) }
        // One signature of several matching is enough (a sender rotating its secret sends both).
        let both = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= " + vector.expected_signature
        #expect(throws: Never.self) {
            try verifier.verify(id: vector.msg_id, timestamp: String(vector.timestamp), signatures: both, body: body, now: at)
        }
    }

    @Test func asymmetricSignaturesVerifyWithThePublicKeyOnly() throws {
        let key = StandardWebhook.AsymmetricKey.generate()
        let reread = try StandardWebhook.AsymmetricKey(serialized: key.serialized)
        #expect(reread.publicKey == key.publicKey)
        let body = Array(#"{"type":"device.revoked"}"#.utf8)
        let signature = try StandardWebhook.signature(key: key, id: "msg_1", timestamp: 1_700_000_000, body: body)
        #expect(signature.hasPrefix("v1a,"))
        let publicKey = try StandardWebhook.AsymmetricKey.publicKey(serialized: key.publicKey)
        let verifier = StandardWebhook.Verifier(publicKeys: [publicKey])
        let at = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(throws: Never.self) { try verifier.verify(id: "msg_1", timestamp: "1700000000", signatures: signature, body: body, now: at) }
        #expect(throws: StandardWebhook.Refusal.noMatchingSignature) { try verifier.verify(id: "msg_1", timestamp: "1700000001", signatures: signature, body: body, now: at) }
        // A v1a signature is not taken as a v1 one, nor the reverse.
        #expect(throws: StandardWebhook.Refusal.noMatchingSignature) { try verifier.verify(id: "msg_1", timestamp: "1700000000", signatures: "v1" + signature.dropFirst(3), body: body, now: at) }
    }

    @Test func receiversRefuseWhatTheSpecSaysTo() throws {
        let secret = StandardWebhook.Secret.generate()
        let verifier = StandardWebhook.Verifier(secrets: [secret])
        let body = Array("{}".utf8)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let good = StandardWebhook.signature(secret: secret, id: "msg_1", timestamp: 1_700_000_000, body: body)
        #expect(throws: StandardWebhook.Refusal.missingHeader("webhook-id")) { try verifier.verify(id: nil, timestamp: "1", signatures: good, body: body, now: now) }
        #expect(throws: StandardWebhook.Refusal.missingHeader("webhook-timestamp")) { try verifier.verify(id: "msg_1", timestamp: nil, signatures: good, body: body, now: now) }
        #expect(throws: StandardWebhook.Refusal.missingHeader("webhook-signature")) { try verifier.verify(id: "msg_1", timestamp: "1700000000", signatures: nil, body: body, now: now) }
        // Old or future timestamps: replays.
        #expect(throws: StandardWebhook.Refusal.timestampOutOfTolerance(-1000)) { try verifier.verify(id: "msg_1", timestamp: "1699999000", signatures: good, body: body, now: now) }
        #expect(throws: StandardWebhook.Refusal.timestampOutOfTolerance(1000)) { try verifier.verify(id: "msg_1", timestamp: "1700001000", signatures: good, body: body, now: now) }
        // Numbers that are not whole seconds, or too long to be any, are refused where they are read.
        for bad in ["-5", "1e9", "17000000000000000000000", "1700000000.5", " 1700000000", ""] {
            #expect(throws: StandardWebhook.Refusal.malformedHeader("webhook-timestamp must be whole seconds since 1970"), "\(bad)") {
                try verifier.verify(id: "msg_1", timestamp: bad, signatures: good, body: body, now: now)
            }
        }
        // An id with a dot could shift what is signed between id and timestamp.
        #expect(throws: StandardWebhook.Refusal.malformedHeader("webhook-id must be at most 256 bytes with no dot")) {
            try verifier.verify(id: "msg.1", timestamp: "1700000000", signatures: good, body: body, now: now)
        }
        for bad in ["whsec_", "whsec_AAAA", "whsec_!!!!", "whsec_" + Data(repeating: 1, count: 65).base64EncodedString()] {
            #expect(throws: VouchKitError.self, "\(bad)") { try StandardWebhook.Secret(serialized: bad) }
        }
        #expect(throws: VouchKitError.self) { try StandardWebhook.AsymmetricKey(serialized: "whsk_AAAA") }
        #expect(throws: VouchKitError.self) { try StandardWebhook.AsymmetricKey.publicKey(serialized: secret.serialized) }
    }
}

/// A `python3` on PATH that has the official Standard Webhooks library (CI installs it into its
/// virtual environment), or nil.
let pythonWithStandardWebhooks = python(importing: "standardwebhooks")

@Suite(
    "Standard Webhooks interop",
    .enabled(if: pythonWithStandardWebhooks != nil || ProcessInfo.processInfo.environment["CI"] != nil, "needs PyPI standardwebhooks (CI installs it)")
)
struct StandardWebhookInteropTests {
    /// Runs the official library's `Webhook.verify` on a body and headers; returns its output.
    func verify(secret: String, id: String, timestamp: Int, signatures: String, body: [UInt8]) throws -> (status: Int32, output: String) {
        let python = try #require(pythonWithStandardWebhooks)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-webhook-\(UUID().uuidString)")
        try Data(body).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = """
            import sys
            from standardwebhooks.webhooks import Webhook, WebhookVerificationError
            body = open(sys.argv[1], "rb").read()
            headers = {"webhook-id": sys.argv[3], "webhook-timestamp": sys.argv[4], "webhook-signature": sys.argv[5]}
            try:
                print(Webhook(sys.argv[2]).verify(body, headers))
            except WebhookVerificationError as error:
                print("refused:", error)
                sys.exit(1)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script, file.path, secret, id, String(timestamp), signatures]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test func theOfficialLibraryVerifiesWhatVouchKitSignsAndRefusesItAltered() throws {
        let secret = StandardWebhook.Secret.generate()
        let old = StandardWebhook.Secret.generate()
        let body = Array(#"{"type":"device.revoked","timestamp":"2026-12-05T07:00:00Z","data":{"seq":42}}"#.utf8)
        let now = Int(Date().timeIntervalSince1970)
        let signature = StandardWebhook.signature(secret: secret, id: "msg_42", timestamp: now, body: body)
        let accepted = try verify(secret: secret.serialized, id: "msg_42", timestamp: now, signatures: signature, body: body)
        #expect(accepted.status == 0 && accepted.output.contains("device.revoked"), "\(accepted.output)")
        // During a secret's rotation both signatures go out: the library accepts either secret.
        let both = StandardWebhook.signature(secret: old, id: "msg_42", timestamp: now, body: body) + " " + signature
        #expect(try verify(secret: old.serialized, id: "msg_42", timestamp: now, signatures: both, body: body).status == 0)
        #expect(try verify(secret: secret.serialized, id: "msg_42", timestamp: now, signatures: both, body: body).status == 0)
        // Altered, or under another secret, it refuses.
        let altered = try verify(secret: secret.serialized, id: "msg_42", timestamp: now, signatures: signature, body: body + [0x20])
        #expect(altered.status == 1 && altered.output.contains("refused"), "\(altered.output)")
        #expect(try verify(secret: StandardWebhook.Secret.generate().serialized, id: "msg_42", timestamp: now, signatures: signature, body: body).status == 1)
    }
}
