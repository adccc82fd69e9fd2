#if !FUZZING
import Crypto
import Foundation
import SwiftASN1
import VouchCore
import VouchKit
import X509

/// The seed corpus: for each target, a few valid inputs (and some near misses) that the fuzzer
/// mutates, made with the project's own code and taken from the test vectors in
/// `Tests/VouchKitTests/Vectors`. `scripts/make-fuzz-seeds.sh` writes them to `Fuzz/corpus/`.
///
/// Inputs that a target signs before reading hold the fixture's DID and are valid at
/// ``FuzzFixture/now``. Ed25519 signatures are deterministic; the ECDSA ones of the authority's
/// certificates and OCSP answers differ from run to run, so those seeds change when rewritten.
enum FuzzSeeds {
    /// One seed file.
    struct Seed {
        var target: String
        var name: String
        var bytes: [UInt8]

        init(_ target: String, _ name: String, _ bytes: some Sequence<UInt8>) {
            self.target = target
            self.name = name
            self.bytes = Array(bytes)
        }

        init(_ target: String, _ name: String, text: String) {
            self.init(target, name, Array(text.utf8))
        }
    }

    /// Writes every seed to `folder/<target>/<name>`; returns how many.
    static func write(to folder: URL) async throws -> Int {
        let seeds = try await all()
        for seed in seeds {
            let directory = folder.appendingPathComponent(seed.target)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(seed.bytes).write(to: directory.appendingPathComponent(seed.name))
        }
        return seeds.count
    }

    /// Every seed.
    static func all() async throws -> [Seed] {
        var seeds = try x509()
        seeds += try await jose()
        seeds += json()
        seeds += policy()
        seeds += try await telemetry()
        seeds += try transparency()
        seeds += try await statusLists()
        seeds += try await identity()
        seeds += try vectors()
        return seeds
    }

    static let now = FuzzFixture.now
    static let key = FuzzFixture.deviceKey
    static let did = FuzzFixture.deviceDID.description

    // MARK: X.509, PKCS#10, OCSP

    static func x509() throws -> [Seed] {
        let (authority, keys) = try CertificateAuthority.bootstrap(name: "Vouch Seeds", rootCRLURL: "https://vouch.test/v1/pki/root.crl", now: now)
        let device = try authority.issueDeviceCertificate(CertificateAuthority.DeviceProfile(
            deviceID: "dev-1", did: did, spiffeID: "spiffe://vouch.test/device/dev-1", publicKey: key.publicKey.certificatePublicKey,
            notBefore: now.addingTimeInterval(-300), notAfter: now.addingTimeInterval(86_400), crlURL: "https://vouch.test/v1/pki/crl",
            ocspURL: "https://vouch.test/v1/pki/ocsp", issuerURL: "https://vouch.test/v1/pki/intermediate.crt"))
        let factoryKey = SigningKey.generate(.p256)
        let factory = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(bytes: [0x10, 0x01]), publicKey: factoryKey.publicKey.certificatePublicKey,
            notValidBefore: Date(timeIntervalSince1970: 1_735_689_600), notValidAfter: Date(timeIntervalSince1970: 1_893_456_000),
            issuer: FuzzFixture.manufacturerName, subject: try DistinguishedName { CommonName("factory-0001") },
            signatureAlgorithm: .ed25519,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                SubjectAlternativeNames([.uniformResourceIdentifier("urn:vouch:factory:0001"), .dnsName("factory.vouch.test")])
            },
            issuerPrivateKey: Certificate.PrivateKey(FuzzFixture.manufacturerKey))
        var seeds: [Seed] = []
        for (name, certificate) in [("device", device), ("factory", factory), ("manufacturer-root", FuzzFixture.manufacturerRoot),
            ("intermediate", authority.intermediate), ("responder", authority.responder)]
        {
            seeds.append(Seed("certificate", name + ".der", try der(certificate)))
        }
        seeds.append(Seed("certificate-pem", "factory.pem", text: try factory.serializeAsPEM().pemString))
        seeds.append(Seed("certificate-pem", "device.pem", text: try device.serializeAsPEM().pemString))

        let requests: [(String, CertificateSigningRequest)] = [
            ("ed25519", try key.certificateSigningRequest(commonName: "dev-1")),
            ("p256", try factoryKey.certificateSigningRequest(commonName: "dev-2")),
            ("extension-request", try CertificateSigningRequest(
                version: .v1, subject: try DistinguishedName { CommonName("dev-3") }, privateKey: key.certificatePrivateKey,
                attributes: CertificateSigningRequest.Attributes([
                    try CertificateSigningRequest.Attribute(ExtensionRequest(extensions: try Certificate.Extensions {
                        SubjectAlternativeNames([.uniformResourceIdentifier(did)])
                    }))
                ]),
                signatureAlgorithm: .ed25519)),
        ]
        for (name, request) in requests {
            seeds.append(Seed("csr", name + ".pem", text: try request.serializeAsPEM().pemString))
            seeds.append(Seed("csr-der", name + ".der", try der(request)))
        }

        let crl = try authority.certificateRevocationList(
            revoked: [
                RevokedCertificate(serialNumber: device.serialNumber, revocationDate: now, reason: .keyCompromise),
                RevokedCertificate(serialNumber: Certificate.SerialNumber(bytes: [0x10, 0x01]), revocationDate: now, reason: .certificateHold),
            ],
            number: 7, now: now)
        seeds.append(Seed("crl", "intermediate.der", crl))
        seeds.append(Seed("crl", "root.pem", text: PEMDocument(type: "X509 CRL", derBytes: try authority.rootRevocationList(rootKey: keys.root, number: 1, now: now)).pemString))
        seeds.append(Seed("crl", "intermediate.base64", text: Data(crl).base64EncodedString()))

        let plain = try OCSPClient.request(serial: device.serialNumber, issuer: authority.intermediate)
        let withNonce = try OCSPClient.request(serial: device.serialNumber, issuer: authority.intermediate, nonce: Array(repeating: 0x5A, count: 16))
        seeds.append(Seed("ocsp-request", "plain.der", plain))
        seeds.append(Seed("ocsp-request", "nonce.der", withNonce))
        for (name, request, status) in [
            ("good.der", plain, OCSPCertificateStatus.good), ("revoked-nonce.der", withNonce, .revoked(at: now, reason: .keyCompromise)),
            ("unknown.der", plain, .unknown),
        ] {
            let summary = try OCSPRequestSummary(derEncoded: request)
            seeds.append(Seed("ocsp-response", name, try authority.ocspResponse(for: summary, statuses: [status], now: now)))
        }
        seeds.append(Seed("ocsp-response", "unauthorized.der", CertificateAuthority.ocspErrorResponse(status: 6)))
        return seeds
    }

    private static func der(_ value: some DERSerializable) throws -> [UInt8] {
        var serializer = DER.Serializer()
        try serializer.serialize(value)
        return serializer.serializedBytes
    }

    // MARK: JWS and payloads

    static func jose() async throws -> [Seed] {
        let issuer = CredentialIssuer(key: key)
        let credential = try await issuer.issue(
            types: ["DeviceIdentityCredential"], subject: did, claims: ["zone": "line-3", "roles": ["sensor"]],
            validFrom: now.addingTimeInterval(-3600), validFor: 30 * 86_400,
            status: [CredentialStatusEntry(listURL: "https://vouch.test/v1/status-lists/revocation-0", index: 94_567)],
            id: "urn:uuid:5f0c5d0e-2f4a-4f59-8a5e-3d1c1f0a7b21")
        let presentation = try await Presentation.create(
            credentials: [credential], holderKey: key, nonce: "n-7Qx", audience: "https://vouch.test", now: now)
        let challenge = try await ChallengeResponse.sign(
            Challenge(nonce: "n-7Qx", audience: "https://vouch.test", expiresAt: now.addingTimeInterval(60)), key: key, now: now)
        let deviceProof = DeviceProof(nonce: "n-7Qx", deviceId: "dev-1", purpose: .rotate, newKeyThumbprint: key.publicKey.thumbprint)
        let possession = PossessionProof(nonce: "n-7Qx", group: "line")
        let deviceProofToken = try await deviceProof.sign(with: key)
        let possessionToken = try await possession.sign(with: key)
        let dpop = try DPoPProof.sign(method: "POST", url: "https://vouch.test/v1/auth/token?x=1", accessToken: "access-token", key: key, now: now)
        let dpopP256 = try DPoPProof.sign(method: "POST", url: "https://vouch.test/v1/auth/token", key: SigningKey.generate(.p256), now: now)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [
            Seed("dpop-proof", "ed25519-bound.txt", text: dpop),
            Seed("dpop-proof", "p256.txt", text: dpopP256),
            Seed("dpop-claims", "bound.json", try CompactJWS(parsing: dpop).payload),
            Seed("dpop-claims", "unbound.json", text: #"{"htm":"POST","htu":"https://vouch.test/v1/auth/token","iat":1767268800,"jti":"8qkF2Yx0m1T5bC3dE7gH9A"}"#),
            Seed("jose-header", "dpop.json", try CompactJWS(parsing: dpopP256).headerJSON),
            Seed("jws", "credential.txt", text: credential),
            Seed("jws", "presentation.txt", text: presentation),
            Seed("jws", "challenge-response.txt", text: challenge),
            Seed("jws", "device-proof.txt", text: deviceProofToken),
            Seed("jws", "possession-proof.txt", text: possessionToken),
            Seed("jose-header", "credential.json", try CompactJWS(parsing: credential).headerJSON),
            Seed("jose-header", "crit.json", text: #"{"alg":"ES256","typ":"vc+jwt","cty":"vc","kid":"did:web:vouch.test#key-1","crit":["b64"]}"#),
            Seed("jose-header", "fully-specified.json", text: #"{"alg":"Ed25519","kid":"\#(FuzzFixture.deviceKeyID)","typ":"vouch-device+jwt"}"#),
            Seed("credential", "device-identity.json", try CompactJWS(parsing: credential).payload),
            Seed("presentation", "single.json", try CompactJWS(parsing: presentation).payload),
            Seed("challenge-response", "answer.json", try CompactJWS(parsing: challenge).payload),
            Seed("challenge-response", "late.json", text: #"{"aud":"https://vouch.test","iat":253402300799,"iss":"\#(did)","nonce":"n"}"#),
            Seed("device-proof", "rotate.json", try encoder.encode(deviceProof)),
            Seed("device-proof", "possession.json", try encoder.encode(possession)),
        ]
    }

    // MARK: JSON and times

    static func json() -> [Seed] {
        let documents = [
            ("object.json", #"{"a":[1,-2.5e-7,1e21,123456789012345678901,true,false,null],"b":{"c":"d"},"":""}"#),
            ("escapes.json", #"["\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t","é😀",""]"#),
            ("claims.json", #"{"iss":"\#(did)","seq":42,"iat":1767268800.125,"type":["VerifiableCredential","X"],"@context":"https://www.w3.org/ns/credentials/v2","statusListIndex":7}"#),
            ("nested.json", String(repeating: "[", count: 40) + String(repeating: "]", count: 40)),
            ("scalar.json", "  -0.0  "),
        ]
        var seeds: [Seed] = []
        for (name, text) in documents {
            seeds.append(Seed("json-scanner", name, text: text))
            seeds.append(Seed("json-value", name, text: text))
        }
        for (index, text) in ["1767268800", "1767268800.999", "0", "253402300799", "-1", "1e19", "\"1767268800\""].enumerated() {
            seeds.append(Seed("numeric-date", "date-\(index)", text: text))
        }
        for (index, text) in [
            "2026-01-01T12:00:00Z", "2026-01-01t12:00:00.123456z", "2024-02-29T23:59:60+14:00", "1970-01-01T00:00:00-00:01",
            "9999-12-31T23:59:59Z", "2026-13-01T00:00:00Z",
        ].enumerated() {
            seeds.append(Seed("rfc3339", "time-\(index)", text: text))
        }
        return seeds
    }

    // MARK: Policy and authorization

    static func policy() -> [Seed] {
        let fleet = """
            roles:
              sensor:
                allow: ["publish:telemetry/${device.id}/#"]
            monitoring:
              halfLife: 30m
              sensitivity: {device: 3, cohort: 4}
              thresholds:
                - {name: chatty, metric: messages, window: 1m, above: 120, zones: [default], weight: 40}
              weights: {policy.denied: 35}
              responses:
                - when signal == signature.forged or signal == firmware.unknown or score < 40 then quarantine
                - {name: moved, when: signal == address.new, then: step-up}
                - {name: watch, when: score < 80, then: alert, dryRun: true}

            """
        let json = #"{"zones":{"lab":{"description":"Lab"}},"roles":{"op":{"statements":[{"effect":"deny","actions":["*"],"resources":["secrets/#"],"conditions":{"peerZones":["lab"],"sourceAddresses":["2001:db8::/32"]}}]}},"quarantine":{"allow":["attest:device/${device.id}"]}}"#
        let cases = """
            devices:
              s1: {zone: line-3, roles: [sensor], attributes: {model: th-100}}
              o1: {zone: plant-ops}
              q1: {zone: line-3, roles: [sensor], quarantined: true}
            cases:
              - {subject: s1, action: publish, resource: telemetry/s1/temp, expect: allow}
              - {subject: s1, action: subscribe, resource: "commands/+", expect: deny}
              - {subject: s1, action: publish, resource: telemetry/s1/temp, context: {peer: o1}, expect: allow}
              - subject: s1
                action: write
                resource: config/line-3/rate
                context: {sourceAddress: 10.0.0.7, time: "2026-01-01T12:00:00Z"}
                expect: deny
              - {subject: q1, action: attest, resource: device/q1, expect: allow}

            """
        var seeds = [
            Seed("policy-document", "readme.yaml", text: FuzzFixture.examplePolicy),
            Seed("policy-document", "fleet.yaml", text: fleet),
            Seed("policy-document", "lab.json", text: json),
            Seed("policy-test-suite", "readme-cases.yaml", text: cases),
            Seed("zone-rules", "readme.json", FuzzTargets.examplePolicy.zoneRules.json.canonicalJSON),
            Seed("zone-rules", "statement.json", text: #"{"effect":"allow","actions":["publish"],"resources":["telemetry/+/temp"],"conditions":{"timeOfDay":"22:00-06:00","sourceAddresses":["10.0.0.0/8"],"peerZones":["line-3"]},"source":"roles.sensor.allow[0]"}"#),
        ]
        for (index, text) in [
            "score < 40 or signal == firmware.unknown", "signal == rule.* and not zone == lab", "not (score >= 99.5 and group != line)",
            "when score <= 60 then alert",
        ].enumerated() {
            seeds.append(Seed("response-condition", "condition-\(index)", text: text))
        }
        for (index, text) in ["10.0.0.0/8", "192.0.2.1", "2001:db8::/32", "::ffff:10.0.0.7", "fe80::1/128"].enumerated() {
            seeds.append(Seed("ip-address", "address-\(index)", text: text))
        }
        for (index, text) in [
            "telemetry/+/temp\ntelemetry/dev-1/temp", "firmware/t1000/fw-*.bin\nfirmware/t1000/fw-1.2.bin", "commands/#\ncommands/+",
            "a/*/c*d*e\na/b/cxdxe", "telemetry/dev-1/#\ntelemetry/dev-1",
        ].enumerated() {
            seeds.append(Seed("resource-pattern", "pattern-\(index)", text: text))
        }
        return seeds
    }

    // MARK: Telemetry

    static func telemetry() async throws -> [Seed] {
        let reading = TelemetryEnvelope(device: FuzzFixture.deviceDID, sequence: 7, time: now, topic: "sensors/temp", payload: Data(#"{"t":21.5}"#.utf8))
        let measurement = try FirmwareMeasurement(sha256: String(repeating: "ab", count: 32), version: "1.4.2", nonce: "n-7Qx")
        let reported = measurement.envelope(device: FuzzFixture.deviceDID, sequence: 8, time: now)
        let readingToken = try await reading.signed(with: key)
        let reportedToken = try await reported.signed(with: key)
        return [
            Seed("telemetry-envelope", "reading.json", try CompactJWS(parsing: readingToken).payload),
            Seed("telemetry-envelope", "firmware.json", try CompactJWS(parsing: reportedToken).payload),
            Seed("telemetry-token", "reading.txt", text: readingToken),
            Seed("telemetry-token", "firmware.txt", text: reportedToken),
            Seed("telemetry-batch", "two.json", text: #"{"envelopes":["\#(readingToken)","\#(reportedToken)"],"note":{"skipped":[1,2]}}"#),
            Seed("firmware-measurement", "answer.json", reported.payload),
            Seed("firmware-measurement", "boot.json", text: #"{"sha256":"\#(String(repeating: "0F", count: 32))","version":"2.0.0-rc.1"}"#),
        ]
    }

    // MARK: Transparency log

    static func transparency() throws -> [Seed] {
        let entries = [#"{"event":"device.enrolled","id":"dev-1"}"#, #"{"event":"credential.issued","id":"dev-1"}"#, #"{"event":"device.revoked"}"#]
        var frontier = MerkleFrontier()
        var nodes: [MerkleNode: MerkleHash] = [:]
        for entry in entries {
            for (node, hash) in frontier.append(leafHash: MerkleHash.leafHash(Array(entry.utf8))) { nodes[node] = hash }
        }
        let checkpoint = try Checkpoint(origin: FuzzFixture.logSigner.name, size: frontier.size, rootHash: frontier.root)
        let note = try FuzzFixture.logSigner.sign(checkpoint.text)
        let cosigned = try FuzzFixture.witness.cosign(note, time: 1_767_268_800)
        let proof = MerkleProofs.inclusionProof(leafIndex: 1, treeSize: frontier.size) { nodes[$0]! }
        let receipt = LogReceipt(index: 1, entry: entries[1], treeSize: frontier.size, inclusionProof: proof.hashes, checkpoint: note.serialized)
        var bundle: [UInt8] = []
        for entry in entries {
            bundle += [UInt8(entry.utf8.count >> 8), UInt8(entry.utf8.count & 0xFF)] + Array(entry.utf8)
        }
        let leaves = entries.flatMap { MerkleHash.leafHash(Array($0.utf8)).bytes }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var seeds = [
            Seed("signed-note", "checkpoint.txt", text: note.serialized),
            Seed("signed-note", "cosigned.txt", text: cosigned.serialized),
            Seed("checkpoint", "vouch.txt", text: checkpoint.text),
            Seed("checkpoint", "extensions.txt", text: "example.com/log\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\nextension one\n"),
            Seed("note-key", "verifier.txt", text: FuzzFixture.logSigner.verifierKey),
            Seed("note-key", "signer.txt", text: FuzzFixture.logSigner.signerKey),
            Seed("note-key", "witness.txt", text: FuzzFixture.witness.verifier.verifierKey),
            Seed("note-key", "witness-signer.txt", text: FuzzFixture.witness.signerKey),
            Seed("entry-bundle", "three.bin", bundle),
            Seed("log-receipt", "receipt.json", try encoder.encode(receipt)),
            Seed("log-receipt", "list.json", try encoder.encode([receipt, receipt])),
            Seed("log-audit", "three.bin", Array(checkpoint.text.utf8) + [0, UInt8(bundle.count >> 8), UInt8(bundle.count & 0xFF)] + bundle + leaves),
        ]
        for (index, path) in ["tile/0/000", "tile/entries/x001/x234/067.p/8", "tile/8/x018/x446/x744/x073/x709/x551/615", "tile/1/000.p/255"].enumerated() {
            seeds.append(Seed("log-tile", "path-\(index)", text: path))
        }
        return seeds
    }

    // MARK: Status lists

    static func statusLists() async throws -> [Seed] {
        var list = try BitstringStatusList()
        for index in [0, 7, 94_567, 131_071] { try list.set(index) }
        let credential = try await StatusListCredential.issue(
            list, purpose: .revocation, url: "https://vouch.test/v1/status-lists/revocation-0", issuer: CredentialIssuer(key: key),
            validFrom: now.addingTimeInterval(-3600), validFor: 86_400)
        let file = StatusListFile(statusPurpose: .suspension, list: list)
        let empty = StatusListFile(statusPurpose: .revocation, list: try BitstringStatusList())
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [
            Seed("bitstring-status-list", "four-set.gz", Base64URL.decode(list.encodedList.dropFirst())!),
            Seed("status-list-file", "suspension.json", try encoder.encode(file)),
            Seed("status-list-file", "revocation.json", try encoder.encode(empty)),
            Seed("status-list-credential", "revocation.json", try CompactJWS(parsing: credential).payload),
        ]
    }

    // MARK: Identity

    static func identity() async throws -> [Seed] {
        let webDID = try DID("did:web:vouch.test%3A8443:devices:dev-1")
        let webDocument = try DIDDocument(didWeb: webDID, keys: [key.publicKey, SigningKey.generate(.p256).publicKey])
        let keyDocument = try DIDDocument(didKey: FuzzFixture.deviceDID)
        var issuerJWK = key.publicKey.jwk
        issuerJWK.kid = FuzzFixture.deviceKeyID
        let list = try await StatusListCredential.issue(
            try BitstringStatusList(), purpose: .suspension, url: "https://vouch.test/v1/status-lists/suspension-0",
            issuer: CredentialIssuer(key: key), validFrom: now.addingTimeInterval(-3600), validFor: 86_400)
        let contents = TrustBundle.Contents(
            authority: did, issuedAt: now, expiresAt: now.addingTimeInterval(86_400),
            trustedIssuers: [TrustedIssuer(id: did, keys: [issuerJWK])], caCertificates: [try FuzzFixture.manufacturerRoot.serializeAsPEM().pemString],
            statusListCredentials: [list], statusListURLs: ["https://vouch.test/v1/status-lists/suspension-0"],
            checkpoint: try FuzzFixture.logSigner.sign("vouch.test/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n").serialized,
            logKey: FuzzFixture.logSigner.verifierKey, zones: FuzzTargets.examplePolicy.zoneRules)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return [
            Seed("did", "did-key.txt", text: did),
            Seed("did", "verification-method.txt", text: FuzzFixture.deviceKeyID),
            Seed("did", "did-web.txt", text: webDID.description),
            Seed("did", "did-url.txt", text: "did:web:vouch.test:devices:dev-1/path?service=files&x=%2F#key-1"),
            Seed("did-document", "did-web.json", webDocument.jsonData(pretty: false)),
            Seed("did-document", "did-key.json", keyDocument.jsonData(pretty: false)),
            Seed("jwk", "private-ed25519.json", key.jwk.jsonData()),
            Seed("jwk", "p256.json", SigningKey.generate(.p256).publicKey.jwk.jsonData()),
            Seed("trust-bundle", "bundle.json", try encoder.encode(contents)),
        ]
    }
}

extension CompactJWS {
    /// The protected header's JSON, as the token carries it.
    fileprivate var headerJSON: [UInt8] {
        Base64URL.decode(token.prefix { $0 != "." }) ?? []
    }
}
#endif
