import ArgumentParser
import Foundation
import SwiftASN1
import VouchKit

/// `vouch device …`: the device agent.
struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "The device agent: enroll with a Vouch server and keep the identity in a directory.",
        subcommands: [Enroll.self]
    )

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key, enroll it, and write key.jwk, key.pem (0600), cert.pem, chain.pem, identity.vc.jwt, role credentials and trust-bundle.json to DIR.",
            discussion: "Prints the device id as its last line."
        )

        @Option(help: "The Vouch server, such as http://127.0.0.1:8080.") var server: String
        @Option(help: "The enrollment group's name.") var group: String
        @Option(help: "The group's claim token.") var token: String
        @Option(name: .customLong("key-type"), help: "ed25519 or p256.") var keyType: String = "ed25519"
        @Option(name: .customLong("attribute"), help: "An attribute as key=value (repeatable), such as model=X or serial=Y.") var attributes: [String] = []
        @Option(help: "Directory for the key, certificate and credentials; created with mode 0700.") var dir: String

        func run() async throws {
            guard let type = SigningKey.KeyType(rawValue: keyType) else { throw ValidationError("--key-type must be ed25519 or p256") }
            var attributeMap: [String: JSONValue] = [:]
            for attribute in attributes {
                guard let equals = attribute.firstIndex(of: "="), equals != attribute.startIndex else {
                    throw ValidationError("--attribute \(attribute) must be key=value")
                }
                attributeMap[String(attribute[..<equals])] = .string(String(attribute[attribute.index(after: equals)...]))
            }
            if FileManager.default.fileExists(atPath: dir + "/key.jwk") {
                throw ValidationError("\(dir)/key.jwk exists: this directory already holds a device identity")
            }
            let client = try APIClient(server: server)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])

            let key = SigningKey.generate(type)
            let did = DID(key: key.publicKey)
            let nonce = try await client.json("POST", "/v1/enrollments/nonce")["nonce"]?.stringValue ?? ""
            let csr = try key.certificateSigningRequest(commonName: did.description)
            let proof = try await PossessionProof(nonce: nonce, group: group).sign(with: key)
            let body: JSONValue = [
                "nonce": .string(nonce), "group": .string(group), "csr": .string(try csr.serializeAsPEM().pemString),
                "attributes": .object(attributeMap), "attestation": ["claimToken": .string(token)], "proof": .string(proof),
            ]
            let (status, data) = try await client.send("POST", "/v1/enrollments", json: body)
            let answer = try JSONValue(parsing: data)
            try key.write(toFile: dir + "/key.jwk", overwrite: false)
            try AtomicFile.write(Data(try key.pkcs8PEMRepresentation.utf8), to: dir + "/key.pem", mode: 0o600, replacingExisting: false)
            try DeviceCommand.write(answer, to: dir)
            let deviceID = answer["deviceId"]?.stringValue ?? ""
            if status == 202 {
                print("enrollment is waiting for an operator's approval (state \(answer["state"]?.stringValue ?? "pending"))")
            } else {
                print("enrolled \(answer["did"]?.stringValue ?? "") in group \(group)")
            }
            print(deviceID)
        }
    }

    /// Writes the files of an enrollment answer: certificate, chain, credentials, trust bundle, device id.
    static func write(_ answer: JSONValue, to dir: String) throws {
        func save(_ text: String?, _ name: String) throws {
            guard let text else { return }
            try Data((text.hasSuffix("\n") ? text : text + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
        try save(answer["certificate"]?.stringValue, "cert.pem")
        try save(answer["chain"]?.stringValue, "chain.pem")
        try save(answer["identityCredential"]?.stringValue, "identity.vc.jwt")
        for (index, role) in (answer["roleCredentials"]?.arrayValue ?? []).enumerated() {
            try save(role.stringValue, "role-\(index + 1).vc.jwt")
        }
        if let bundle = answer["trustBundle"]?.stringValue {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try save(String(decoding: try encoder.encode(["trustBundle": bundle]), as: UTF8.self), "trust-bundle.json")
        }
        try save(answer["deviceId"]?.stringValue, "device-id")
    }
}
