import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import SwiftASN1
import Testing
import VouchKit
import VouchServer
import X509

/// A fresh data directory, removed afterwards.
func withDataDirectory<T>(_ body: (String) async throws -> T) async throws -> T {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("vouch-test-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// Runs `test` against the real application on `dataDirectory` (in process, or on a socket with `.live`).
func withServer<T: Sendable>(
    dataDirectory: String, setup: TestingSetup = .router, port: Int = 0, publicURL: String = "https://vouch.test",
    _ test: @escaping @Sendable (any TestClientProtocol, String) async throws -> T
) async throws -> T {
    var logger = Logger(label: "vouch-test")
    logger.logLevel = .warning
    let configuration = ServerConfiguration(port: port, dataDirectory: dataDirectory, publicURL: publicURL)
    let server = try await buildApplication(configuration: configuration, logger: logger)
    let adminKey = try String(contentsOfFile: dataDirectory + "/admin-api-key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    return try await server.application.test(setup) { client in
        try await test(client, adminKey)
    }
}

struct HTTPResult {
    var status: Int
    var body: Data
    var headers: HTTPFields
    var json: JSONValue { (try? JSONValue(parsing: body)) ?? .null }
    var text: String { String(decoding: body, as: UTF8.self) }
}

extension TestClientProtocol {
    @discardableResult
    func call(_ method: HTTPRequest.Method, _ uri: String, json: JSONValue? = nil, apiKey: String? = nil, headers: HTTPFields = [:], body: [UInt8]? = nil) async throws -> HTTPResult {
        var fields = headers
        if let apiKey { fields[.authorization] = "Bearer \(apiKey)" }
        var buffer: ByteBuffer?
        if let json {
            fields[.contentType] = "application/json"
            buffer = ByteBuffer(bytes: try JSONEncoder().encode(json))
        } else if let body {
            buffer = ByteBuffer(bytes: body)
        }
        return try await execute(uri: uri, method: method, headers: fields, body: buffer) { response in
            HTTPResult(status: Int(response.status.code), body: Data(response.body.readableBytesView), headers: response.headers)
        }
    }

    /// Creates a claim-token group and returns its token.
    func createGroup(_ name: String, apiKey: String, extra: [String: JSONValue] = [:]) async throws -> String? {
        var body: [String: JSONValue] = ["name": .string(name)]
        body.merge(extra) { $1 }
        let result = try await call(.post, "/v1/admin/groups", json: .object(body), apiKey: apiKey)
        #expect(result.status == 201, "\(result.text)")
        return result.json["claimToken"]?.stringValue
    }

    func nonce() async throws -> String {
        try #require(try await call(.post, "/v1/enrollments/nonce").json["nonce"]?.stringValue)
    }
}

/// A device's side of enrollment, with knobs to break each part.
struct TestDevice {
    var key = SigningKey.generate(.ed25519)
    var did: DID { DID(key: key.publicKey) }

    func enrollmentBody(
        nonce: String, group: String, token: String?, attributes: [String: String] = ["model": "m1", "serial": "s1"],
        proofKey: SigningKey? = nil, proofNonce: String? = nil, csrKey: SigningKey? = nil
    ) async throws -> JSONValue {
        let signer = proofKey ?? key
        let proof = try await PossessionProof(nonce: proofNonce ?? nonce, group: group).sign(with: signer)
        let csr = try (csrKey ?? key).certificateSigningRequest(commonName: did.description)
        var attestation: [String: JSONValue] = [:]
        if let token { attestation["claimToken"] = .string(token) }
        return [
            "nonce": .string(nonce), "group": .string(group), "csr": .string(try csr.serializeAsPEM().pemString),
            "attributes": .object(attributes.mapValues(JSONValue.string)), "attestation": .object(attestation), "proof": .string(proof),
        ]
    }
}

/// Runs a program, returning its exit status and output.
func run(_ executable: String, _ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

let opensslPath: String? = ["/usr/bin/openssl", "/usr/local/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
