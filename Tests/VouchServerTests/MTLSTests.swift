import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SwiftASN1
import Testing
import VouchKit
import VouchServer
import X509
import Crypto

let curlPath: String? = ["/usr/bin/curl", "/usr/local/bin/curl"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// The mTLS listener, driven by curl with the files `vouch device enroll` writes: a device
/// certificate is the device's identity; a revoked one, another CA's, or none ends the handshake.
@Suite(
    "mTLS listener",
    .enabled(if: (curlPath != nil && opensslPath != nil) || ProcessInfo.processInfo.environment["CI"] != nil, "needs curl and openssl (CI installs them)")
)
struct MTLSTests {
    @Test(arguments: [SigningKey.KeyType.ed25519, .p256])
    func aDeviceCertificateIsTheIdentityUntilItIsRevoked(keyType: SigningKey.KeyType) async throws {
        let curl = try #require(curlPath)
        let openssl = try #require(opensslPath)
        try await withDataDirectory { dir in
            var logger = Logger(label: "vouch-test")
            logger.logLevel = .warning
            let configuration = ServerConfiguration(port: 0, dataDirectory: dir, publicURL: "https://vouch.test", mtlsPort: 0)
            let server = try await buildApplication(configuration: configuration, logger: logger)
            let admin = try String(contentsOfFile: dir + "/admin-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            try await server.application.test(.live) { client in
                let port = try #require(try await server.mtlsPort)
                let device = TestDevice(key: SigningKey.generate(keyType))
                let (id, answer) = try await RevocationTests.enroll(client, admin: admin, device: device)

                let work = dir + "/device"
                try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
                func save(_ name: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: work + "/" + name)) }
                try save("key.pem", try device.key.pkcs8PEMRepresentation)
                try save("cert.pem", try #require(answer["certificate"]?.stringValue))
                try save("ca.pem", try await client.call(.get, "/v1/pki/ca.pem").text)

                func request(
                    _ path: String, method: String = "GET", certificate: String? = "cert.pem", json: JSONValue? = nil, bearer: String? = nil
                ) async throws -> (status: Int32, output: String) {
                    var arguments = ["-sS", "-X", method, "--cacert", work + "/ca.pem", "--max-time", "20"]
                    if let certificate { arguments += ["--cert", work + "/" + certificate, "--key", work + "/key.pem"] }
                    if let json { arguments += ["-H", "Content-Type: application/json", "--data-binary", String(decoding: json.jsonData(), as: UTF8.self)] }
                    if let bearer { arguments += ["-H", "Authorization: Bearer \(bearer)"] }
                    return try await run(curl, arguments + ["https://127.0.0.1:\(port)\(path)"])
                }

                // The certificate alone authenticates: curl checks the server against ca.pem (SAN
                // 127.0.0.1), the server checks the client against its records.
                let me = try await request("/v1/devices/self")
                #expect(me.status == 0, "\(me.output)")
                #expect(try JSONValue(parsing: Data(me.output.utf8))["id"]?.stringValue == id)
                let renewed = try await request("/v1/devices/self/renew", method: "POST")
                #expect(renewed.status == 0, "\(renewed.output)")
                #expect(try JSONValue(parsing: Data(renewed.output.utf8))["deviceId"]?.stringValue == id)
                try save("cert.pem", try #require(try JSONValue(parsing: Data(renewed.output.utf8))["certificate"]?.stringValue))

                // A token asked for over mTLS without a DPoP proof is bound to the client certificate
                // (RFC 8705): good on this connection's certificate, useless anywhere else.
                let (nonce, proof) = try await device.proof(client, deviceID: id)
                let issued = try await request("/v1/auth/token", method: "POST", json: ["nonce": .string(nonce), "proof": .string(proof)])
                let tokenAnswer = try JSONValue(parsing: Data(issued.output.utf8))
                #expect(tokenAnswer["token_type"] == "Bearer", "\(issued.output)")
                let bound = try #require(tokenAnswer["access_token"]?.stringValue)
                let certificateDER = try Certificate(pemEncoded: try String(contentsOfFile: work + "/cert.pem", encoding: .utf8))
                var serializer = DER.Serializer()
                try serializer.serialize(certificateDER)
                #expect(try claims(of: bound)["cnf"]?["x5t#S256"]?.stringValue == Base64URL.encode(Array(SHA256.hash(data: serializer.serializedBytes))))
                let withToken = try await request("/v1/devices/self", bearer: bound)
                #expect(try JSONValue(parsing: Data(withToken.output.utf8))["id"]?.stringValue == id, "\(withToken.output)")
                expectProblem(
                    try await client.call(.get, "/v1/devices/self", headers: [.authorization: "Bearer \(bound)"]), 401, "bound to a client certificate")

                // No client certificate, or one from another CA for the same key: no handshake.
                let anonymous = try await request("/v1/devices/self", certificate: nil)
                #expect(anonymous.status != 0 && !anonymous.output.contains(id), "\(anonymous.output)")
                let selfSigned = try await run(openssl, [
                    "req", "-x509", "-key", work + "/key.pem", "-subj", "/CN=\(id)", "-days", "1", "-out", work + "/self-signed.pem",
                ])
                #expect(selfSigned.status == 0, "\(selfSigned.output)")
                let foreign = try await request("/v1/devices/self", certificate: "self-signed.pem")
                #expect(foreign.status != 0 && !foreign.output.contains(id), "\(foreign.output)")

                // Revoked: the next handshake is refused.
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/revoke", json: ["reason": "key-compromise"], apiKey: admin).status == 200)
                let refused = try await request("/v1/devices/self")
                #expect(refused.status != 0 && !refused.output.contains(id), "\(refused.output)")
            }
        }
    }
}
