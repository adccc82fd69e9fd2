import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import SwiftASN1
import Testing
import VouchAPI
import VouchCore
import VouchKit
import VouchServer
import X509
import Crypto
import NIOCore
import NIOPosix
import NIOSSL

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
                let device = DeviceAgent(key: SigningKey.generate(keyType))
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
                let issued = try await request("/v1/auth/token", method: "POST", json: try JSONValue(encoding: TokenRequest(nonce: nonce, proof: proof)))
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

                // A BoringSSL client (swift-nio-ssl, as AsyncHTTPClient and Chrome use) sends its
                // Certificate, CertificateVerify and Finished in one record, so nothing of the
                // handshake is left to read when the server's decision comes back.
                let viaBoringSSL = try await Self.boringSSLGet(port: port, path: "/v1/devices/self", directory: work)
                #expect(viaBoringSSL.hasPrefix("HTTP/1.1 200") && viaBoringSSL.contains("\"id\":\"\(id)\""), "\(viaBoringSSL)")

                // No session is resumable (BoringSSL would not check the certificate again on
                // resumption): TLS 1.3 sends no ticket, TLS 1.2 no session id, so openssl has no
                // session to save.
                func handshake(_ options: [String]) async throws -> String {
                    try await run(openssl, [
                        "s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost", "-CAfile", work + "/ca.pem",
                        "-cert", work + "/cert.pem", "-key", work + "/key.pem", "-ign_eof",
                    ] + options, input: "GET /v1/devices/self HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").output
                }
                let tls13 = try await handshake(["-tls1_3", "-sess_out", work + "/session13.pem"])
                #expect(tls13.contains("\"id\":\"\(id)\""), "\(tls13)")
                #expect(!FileManager.default.fileExists(atPath: work + "/session13.pem"), "the server sent a TLS 1.3 session ticket")
                let tls12 = try await handshake(["-tls1_2", "-sess_out", work + "/session12.pem"])
                #expect(tls12.contains("\"id\":\"\(id)\""), "\(tls12)")
                #expect(!FileManager.default.fileExists(atPath: work + "/session12.pem"), "the server offered a TLS 1.2 session")

                // No client certificate, or one from another CA for the same key: no handshake.
                let anonymous = try await request("/v1/devices/self", certificate: nil)
                #expect(anonymous.status != 0 && !anonymous.output.contains(id), "\(anonymous.output)")
                // TLS 1.3 (RFC 8446 §4.4.2.4): the server asks for a certificate and ends the handshake without one.
                #expect(anonymous.output.contains("alert certificate required"), "\(anonymous.output)")
                let selfSigned = try await run(openssl, [
                    "req", "-x509", "-key", work + "/key.pem", "-subj", "/CN=\(id)", "-days", "1", "-out", work + "/self-signed.pem",
                ])
                #expect(selfSigned.status == 0, "\(selfSigned.output)")
                let foreign = try await request("/v1/devices/self", certificate: "self-signed.pem")
                #expect(foreign.status != 0 && !foreign.output.contains(id), "\(foreign.output)")
                // The alert says why, as openssl s_server's would: not this authority's CA.
                #expect(foreign.output.contains("alert unknown ca"), "\(foreign.output)")

                // Suspended: the certificate is on hold, and the handshake ends with
                // certificate_revoked (a CRL's certificateHold entry is a revocation to a verifier);
                // reinstated, it works again.
                #expect(try await client.vouch(.apiKey(admin)).act(.suspend, on: id).device.state == "suspended")
                let held = try await request("/v1/devices/self")
                #expect(held.status != 0 && held.output.contains("alert certificate revoked"), "\(held.output)")
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/reinstate", apiKey: admin).status == 200)
                let back = try await request("/v1/devices/self")
                #expect(back.status == 0 && back.output.contains(id), "\(back.output)")

                // Revoked: the next handshake is refused with certificate_revoked, on TLS 1.2 too.
                #expect(try await client.vouch(.apiKey(admin)).act(.revoke, on: id, reason: "key-compromise").device.state == "revoked")
                let refused = try await request("/v1/devices/self")
                #expect(refused.status != 0 && !refused.output.contains(id), "\(refused.output)")
                #expect(refused.output.contains("alert certificate revoked"), "\(refused.output)")
                await #expect {
                    try await Self.boringSSLGet(port: port, path: "/v1/devices/self", directory: work)
                } throws: { error in
                    String(describing: error).contains("CERTIFICATE_REVOKED")
                }
                let refused12 = try await handshake(["-tls1_2"])
                #expect(!refused12.contains("\"id\":\"\(id)\"") && refused12.contains("alert certificate revoked"), "\(refused12)")
            }
        }
    }

    /// GET `path` over TLS with swift-nio-ssl's BoringSSL as the client, presenting cert.pem and
    /// key.pem from `directory` and trusting ca.pem there; the raw HTTP/1.1 answer.
    static func boringSSLGet(port: Int, path: String, directory: String) async throws -> String {
        func read(_ name: String) throws -> [UInt8] { Array(try String(contentsOfFile: directory + "/" + name, encoding: .utf8).utf8) }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(try read("ca.pem")))
        tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(try read("cert.pem")).map { .certificate($0) }
        tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: try read("key.pem"), format: .pem))
        let context = try NIOSSLContext(configuration: tls)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"))
            var answer = ""
            for try await var buffer in inbound { answer += buffer.readString(length: buffer.readableBytes) ?? "" }
            return answer
        }
    }
}