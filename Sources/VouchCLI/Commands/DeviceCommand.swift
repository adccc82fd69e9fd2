import ArgumentParser
import Foundation
import SwiftASN1
import VouchAPI
import VouchCore
import VouchKit

/// `vouch device …`: the device agent.
struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device",
        abstract: "The device agent: enroll with a Vouch server and keep the identity in a directory.",
        subcommands: [Enroll.self, Token.self, Renew.self, Rotate.self, Present.self, Send.self, Attest.self]
    )

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a key, enroll it, and write key.jwk, key.pem (0600), cert.pem, chain.pem, identity.vc.jwt, role credentials, trust-bundle.json and log-receipts.json to DIR.",
            discussion: "Prints the device id as its last line."
        )

        @Option(help: "The Vouch server (VOUCH_SERVER), such as http://127.0.0.1:8080.") var server: String?
        @Option(help: "The enrollment group's name.") var group: String
        @Option(help: "The group's claim token.") var token: String
        @Option(name: .customLong("key-type"), help: "ed25519 or p256.") var keyType: String = "ed25519"
        @Option(name: .customLong("attribute"), help: "An attribute as key=value (repeatable), such as model=X or serial=Y.") var attributes: [String] = []
        @Option(help: "Directory for the key, certificate and credentials (with the server's URL); created with mode 0700.") var dir: String

        func run() async throws {
            guard let type = SigningKey.KeyType(rawValue: keyType) else { throw ValidationError("--key-type must be ed25519 or p256") }
            var attributeMap: [String: String] = [:]
            for attribute in attributes {
                guard let equals = attribute.firstIndex(of: "="), equals != attribute.startIndex else {
                    throw ValidationError("--attribute \(attribute) must be key=value")
                }
                attributeMap[String(attribute[..<equals])] = String(attribute[attribute.index(after: equals)...])
            }
            if FileManager.default.fileExists(atPath: dir + "/key.jwk") {
                throw ValidationError("\(dir)/key.jwk exists: this directory already holds a device identity")
            }
            guard let server = server ?? ProcessInfo.processInfo.environment["VOUCH_SERVER"], !server.isEmpty else {
                throw ValidationError("give --server or set VOUCH_SERVER")
            }
            let transport = try CLIInput.transport(server)
            let client = VouchClient(transport: transport)
            let existed = FileManager.default.fileExists(atPath: dir)
            let before = Set((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])

            let key = SigningKey.generate(type)
            let answer: EnrollmentBundle
            do {
                answer = try await DeviceAgent(key: key).enroll(client, group: group, claimToken: token, attributes: attributeMap)
                try key.write(toFile: dir + "/key.jwk", overwrite: false)
                try AtomicFile.write(Data(try key.pkcs8PEMRepresentation.utf8), to: dir + "/key.pem", mode: 0o600, replacingExisting: false)
                try DeviceCommand.write(answer, to: dir)
                try Data((transport.server + "\n").utf8).write(to: URL(fileURLWithPath: dir + "/server-url"))
            } catch {
                // A failed enrollment leaves the directory as it found it (or not there at all).
                if existed {
                    let now = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
                    for name in now where !before.contains(name) { try? FileManager.default.removeItem(atPath: dir + "/" + name) }
                } else {
                    try? FileManager.default.removeItem(atPath: dir)
                }
                throw error
            }
            let deviceID = answer.deviceId
            if answer.state == DeviceState.pending.rawValue {
                print("enrollment is waiting for an operator's approval (state \(answer.state))")
            } else {
                print("enrolled \(answer.did) in group \(group)")
            }
            print(deviceID)
        }
    }

    /// The device directory's identity: key, device id, server.
    struct Identity {
        let dir: String
        let key: SigningKey
        let deviceID: String
        /// Anonymous: what the challenge and token requests go out with.
        let client: VouchClient

        init(dir: String, server: String?) throws {
            self.dir = dir
            guard FileManager.default.fileExists(atPath: dir + "/key.jwk") else {
                throw ValidationError("\(dir) holds no device identity (no key.jwk); run vouch device enroll first")
            }
            key = try CLIInput.signingKey(dir + "/key.jwk")
            guard let id = try? String(contentsOfFile: dir + "/device-id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines), !id.isEmpty else {
                throw ValidationError("\(dir)/device-id is missing: the enrollment did not finish")
            }
            deviceID = id
            let url = server ?? (try? String(contentsOfFile: dir + "/server-url", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            guard let url, !url.isEmpty else { throw ValidationError("give --server: \(dir)/server-url is missing") }
            client = VouchClient(transport: try CLIInput.transport(url))
        }

        /// The device key, to sign `count` messages numbered from the device's sequence, which is
        /// advanced in DIR/telemetry-seq first so that no number is ever signed twice.
        func agent(reserving count: Int) throws -> DeviceAgent {
            let numbers = try DeviceCommand.nextSequences(count, dir: dir)
            return DeviceAgent(key: key, sequence: numbers.lowerBound - 1)
        }

        /// A fresh challenge nonce.
        func challenge() async throws -> String {
            try await client.challenge().nonce
        }

        /// The client, carrying a fresh access token and signing a DPoP proof for each request.
        func authorizedClient() async throws -> VouchClient {
            try await client.authenticated(deviceId: deviceID, key: key).client
        }

        /// A 10-minute access token for this device.
        func accessToken() async throws -> String {
            try await client.authenticated(deviceId: deviceID, key: key).token.access_token
        }

        /// Asks for a token with `key`; a refusal is returned, not thrown.
        func accessToken(signedWith key: SigningKey) async throws -> Result<VouchClient, VouchClientError> {
            do {
                return .success(try await client.authenticated(deviceId: deviceID, key: key).client)
            } catch let error as VouchClientError where error.code == .refused {
                return .failure(error)
            }
        }
    }

    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a fresh challenge with the device key and print a 10-minute access token.",
            discussion: """
                The token is bound to the device key (RFC 9449): use it as Authorization: DPoP TOKEN on \
                /v1/devices/self/…, with a DPoP proof signed by the key for each request in the DPoP header.
                """
        )

        @Option(help: "The device directory written by vouch device enroll.") var dir: String
        @Option(help: "The Vouch server (default: the one the device enrolled with).") var server: String?

        func run() async throws {
            print(try await Identity(dir: dir, server: server).accessToken())
        }
    }

    struct Renew: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Get a new certificate and credentials for the same key, and replace them in DIR."
        )

        @Option(help: "The device directory written by vouch device enroll.") var dir: String
        @Option(help: "The Vouch server (default: the one the device enrolled with).") var server: String?
        @Option(help: "The firmware image file, hashed here: report it with the renewal (groups that require known-good firmware).")
        var image: String?
        @Option(help: "The image's SHA-256, in hex (instead of --image).") var sha256: String?
        @Option(help: "The firmware version (with --image or --sha256).") var version: String?

        func run() async throws {
            let identity = try Identity(dir: dir, server: server)
            var body: RenewalRequest?
            if image != nil || sha256 != nil || version != nil {
                guard let version else { throw ValidationError("--version is needed with --image or --sha256") }
                let nonce = try await identity.challenge()
                let measurement = try CLIInput.measurement(image: image, sha256: sha256, version: version)
                let envelope = try await identity.agent(reserving: 1).measurement(measurement, answering: nonce)
                body = RenewalRequest(nonce: nonce, measurement: envelope)
            }
            let answer = try await identity.authorizedClient().renew(body)
            try DeviceCommand.write(answer, to: dir)
            print("renewed the certificate and credentials of \(identity.deviceID)")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace the device key: the old and the new key both sign; the device id stays, the old certificate is revoked as superseded.",
            discussion: """
                The new key is written to DIR/key.jwk.new before the server hears of it. When the server's answer \
                does not arrive, the file stays, and the next run asks the server which key it holds and finishes \
                or abandons the rotation, so that an interrupted rotation never loses the device's key. \
                Prints the new DID as its last line.
                """
        )

        @Option(help: "The device directory written by vouch device enroll.") var dir: String
        @Option(help: "The Vouch server (default: the one the device enrolled with).") var server: String?
        @Option(name: .customLong("key-type"), help: "ed25519 or p256 (default: the current key's type).") var keyType: String?

        func run() async throws {
            let identity = try Identity(dir: dir, server: server)
            let pending = dir + "/key.jwk.new"
            if FileManager.default.fileExists(atPath: pending) {
                try await resume(identity, pending: pending)
                return
            }
            let type = try keyType.map {
                guard let type = SigningKey.KeyType(rawValue: $0) else { throw ValidationError("--key-type must be ed25519 or p256") }
                return type
            } ?? identity.key.type
            let newKey = SigningKey.generate(type)
            try newKey.write(toFile: pending, overwrite: false)
            let nonce = try await identity.challenge()
            let payload = DeviceProof(nonce: nonce, deviceId: identity.deviceID, purpose: .rotate, newKeyThumbprint: newKey.publicKey.thumbprint)
            let request = RotationRequest(
                nonce: nonce, csr: try newKey.certificateSigningRequest(commonName: DID(key: newKey.publicKey).description).serializeAsPEM().pemString,
                proof: try await payload.sign(with: newKey), previousKeyProof: try await payload.sign(with: identity.key))
            let response = try await identity.client.exchange("POST", "/v1/devices/self/rotate", body: .json(request))
            guard response.status == 201, let answer = try? response.decode(EnrollmentBundle.self), answer.certificate != nil else {
                let detail = response.problem?.detail ?? String(response.text.prefix(300))
                if (400..<500).contains(response.status) {
                    // Refused: the server changed nothing; the current key stays.
                    try? FileManager.default.removeItem(atPath: pending)
                    CLIOutput.error("Error: \(detail) (HTTP \(response.status))")
                    throw ExitCode(1)
                }
                CLIOutput.error("Error: the rotation's outcome is unknown (HTTP \(response.status): \(detail)); run vouch device rotate --dir \(dir) again to finish or undo it")
                throw ExitCode(1)
            }
            try install(newKey, pending: pending)
            try DeviceCommand.write(answer, to: dir)
            print("rotated the key of \(identity.deviceID); the old certificate is revoked as superseded")
            print(answer.did)
        }

        /// Makes the pending key the device key: key.pem first (derived), then key.jwk by rename.
        private func install(_ key: SigningKey, pending: String) throws {
            try AtomicFile.write(Data(try key.pkcs8PEMRepresentation.utf8), to: dir + "/key.pem", mode: 0o600, replacingExisting: true)
            guard rename(pending, dir + "/key.jwk") == 0 else {
                CLIOutput.error("Error: \(pending) could not replace key.jwk; move it there by hand")
                throw ExitCode(1)
            }
        }

        /// Settles a rotation whose answer never arrived: whichever key the server now holds wins.
        private func resume(_ identity: Identity, pending: String) async throws {
            let pendingKey = try CLIInput.signingKey(pending)
            switch try await identity.accessToken(signedWith: pendingKey) {
            case .success(let client):
                // The server took the rotation; install the key and fetch its certificate and credentials.
                try install(pendingKey, pending: pending)
                let answer = try await client.renew()
                try DeviceCommand.write(answer, to: dir)
                print("finished an interrupted rotation of \(identity.deviceID)")
                print(answer.did)
            case .failure:
                guard case .success = try await identity.accessToken(signedWith: identity.key) else {
                    CLIOutput.error("Error: the server accepts neither key.jwk nor key.jwk.new for \(identity.deviceID); both are kept")
                    throw ExitCode(1)
                }
                try FileManager.default.removeItem(atPath: pending)
                CLIOutput.error("an interrupted rotation did not reach the server; it was abandoned. Run the command again to rotate.")
                throw ExitCode(1)
            }
        }
    }

    struct Present: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a vp+jwt presenting the device's credentials to a verifier, bound to its nonce and audience."
        )

        @Option(help: "The device directory written by vouch device enroll.") var dir: String
        @Option(help: "The verifier's nonce.") var nonce: String
        @Option(help: "The verifier (its DID or URL).") var audience: String
        @Option(help: "How long the presentation is valid, such as 5m.") var validFor: String = "5m"
        @Flag(name: .customLong("identity-only"), help: "Present the identity credential without the role credentials.") var identityOnly = false

        func run() async throws {
            guard !nonce.isEmpty, !audience.isEmpty else { throw ValidationError("--nonce and --audience must not be empty") }
            let key = try CLIInput.signingKey(dir + "/key.jwk")
            guard let identity = try? String(contentsOfFile: dir + "/identity.vc.jwt", encoding: .utf8) else {
                throw ValidationError("\(dir)/identity.vc.jwt is missing: the device has no identity credential yet")
            }
            var credentials = [identity.trimmingCharacters(in: .whitespacesAndNewlines)]
            if !identityOnly {
                let roles = (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter { $0.hasPrefix("role-") && $0.hasSuffix(".vc.jwt") }.sorted() ?? []
                for role in roles {
                    credentials.append(try String(contentsOfFile: dir + "/" + role, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
                }
            }
            let lifetime = try CLIInput.duration(validFor)
            guard lifetime <= 86_400 else { throw ValidationError("--valid-for may be at most 24h for a presentation") }
            print(try await Presentation.create(credentials: credentials, holderKey: key, nonce: nonce, audience: audience, validFor: lifetime))
        }
    }

    /// Writes the files of an enrollment answer: certificate, chain, credentials, trust bundle, device id.
    static func write(_ answer: EnrollmentBundle, to dir: String) throws {
        func save(_ text: String?, _ name: String) throws {
            guard let text else { return }
            try AtomicFile.write(Data((text.hasSuffix("\n") ? text : text + "\n").utf8), to: dir + "/" + name, replacingExisting: true)
        }
        try save(answer.certificate, "cert.pem")
        try save(answer.chain, "chain.pem")
        try save(answer.identityCredential, "identity.vc.jwt")
        let current = Set(answer.roleCredentials.indices.map { "role-\($0 + 1).vc.jwt" })
        for (index, role) in answer.roleCredentials.enumerated() {
            try save(role, "role-\(index + 1).vc.jwt")
        }
        // Then drop role credentials the new answer no longer has.
        for stale in (try? FileManager.default.contentsOfDirectory(atPath: dir))?.filter({ $0.hasPrefix("role-") && $0.hasSuffix(".vc.jwt") }) ?? []
        where !current.contains(stale) {
            try? FileManager.default.removeItem(atPath: dir + "/" + stale)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        if let bundle = answer.trustBundle {
            try save(String(decoding: try encoder.encode(["trustBundle": bundle]), as: UTF8.self), "trust-bundle.json")
        }
        if let receipts = answer.log?.receipts, !receipts.isEmpty {
            // Proof that the issuance is in the transparency log: `vouch log verify-inclusion --receipt`.
            try save(String(decoding: try encoder.encode(receipts), as: UTF8.self), "log-receipts.json")
        }
        try save(answer.deviceId, "device-id")
    }
}
