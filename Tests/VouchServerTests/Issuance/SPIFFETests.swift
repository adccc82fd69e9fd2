import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchKit

/// A Python with py-spiffe (PyPI `spiffe`; CI installs it into a virtual environment on PATH).
let spiffePython: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { $0 + "/python3" }
    .first { path in
        FileManager.default.isExecutableFile(atPath: path)
            && FileManager.default.fileExists(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().deletingLastPathComponent().path + "/pyvenv.cfg")
    }

/// py-spiffe, the SPIFFE project's Python library, reads a device certificate of a group with the
/// `spiffe-svid` profile as an X509-SVID (exactly one URI SAN, the SPIFFE ID), and refuses the
/// default profile's certificate, which carries the did:key as a second URI (issue 14).
@Suite("py-spiffe reads X509-SVIDs", .enabled(if: spiffePython != nil || ProcessInfo.processInfo.environment["CI"] != nil, "needs py-spiffe (CI installs it)"))
struct SPIFFETests {
    static let reader = """
        import sys
        from spiffe import X509Svid
        chain = open(sys.argv[1], "rb").read()
        key = open(sys.argv[2], "rb").read()
        try:
            svid = X509Svid.parse(chain, key)
        except Exception as error:
            print("REFUSED", type(error).__name__, error)
            sys.exit(3)
        print("SPIFFE-ID", svid.spiffe_id)
        """

    @Test(arguments: [SigningKey.KeyType.ed25519, .p256])
    func theSVIDProfileIsAnX509SVIDAndTheDefaultIsNot(keyType: SigningKey.KeyType) async throws {
        let python = try #require(spiffePython, "py-spiffe's Python is not on PATH")
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let script = dir + "/read_svid.py"
                try Data(Self.reader.utf8).write(to: URL(fileURLWithPath: script))
                let svidToken = try #require(try await client.createGroup("workloads", apiKey: admin, extra: [
                    "unlimitedTokenUses": true, "certificateProfile": "spiffe-svid",
                ]))
                let plainToken = try #require(try await client.createGroup("plain", apiKey: admin, extra: ["unlimitedTokenUses": true]))
                expectProblem(
                    try await client.call(.post, "/v1/admin/groups", json: ["name": "bad", "certificateProfile": "x509"], apiKey: admin), 400,
                    "certificateProfile")

                for (group, token, expected) in [("workloads", svidToken, true), ("plain", plainToken, false)] {
                    let device = DeviceAgent(key: SigningKey.generate(keyType))
                    let enrolled = try await client.call(
                        .post, "/v1/enrollments", json: try await device.enrollmentBody(nonce: try await client.nonce(), group: group, token: token))
                    #expect(enrolled.status == 201, "\(enrolled.text)")
                    let id = try #require(enrolled.json["deviceId"]?.stringValue)
                    let chain = dir + "/\(group)-chain.pem"
                    let key = dir + "/\(group)-key.pem"
                    try Data((try #require(enrolled.json["certificate"]?.stringValue) + (try #require(enrolled.json["chain"]?.stringValue))).utf8)
                        .write(to: URL(fileURLWithPath: chain))
                    try Data(try device.key.pkcs8PEMRepresentation.utf8).write(to: URL(fileURLWithPath: key))
                    let (status, output) = try await run(python, [script, chain, key])
                    if expected {
                        #expect(status == 0, "\(output)")
                        #expect(output.contains("SPIFFE-ID spiffe://vouch.test/device/\(id)"), "\(output)")
                    } else {
                        #expect(status == 3, "\(output)")
                        #expect(output.contains("multiple URI SAN"), "\(output)")
                    }
                }
            }
        }
    }
}
