import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwiftASN1
import Testing
import VouchAPI
import VouchCore
import VouchKit
import VouchTesting
import X509

@Suite("Manufacturer CA enrollment")
struct ManufacturerEnrollmentTests {
    @Test func aFactoryCertificateFromTheGroupsRootEnrollsAndOthersAreRefused() async throws {
        let factory = try FactoryCA()
        let stranger = try FactoryCA(name: "Someone Else")
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let token = try await client.createGroup("factory", apiKey: admin, extra: [
                    "attestation": "manufacturer-ca", "manufacturerRoots": [.string(try factory.rootPEM)],
                ])
                #expect(token == nil)

                func body(device: DeviceAgent, factoryKey: SigningKey, chain: String, signNonce: String? = nil) async throws -> JSONValue {
                    let nonce = try await client.nonce()
                    var body = try await device.enrollmentBody(nonce: nonce, group: "factory", token: nil)
                    let signature = try FactoryAttestation.sign(nonce: signNonce ?? nonce, group: "factory", enrolling: device.key.publicKey, with: factoryKey)
                    if case .object(var object) = body {
                        object["attestation"] = ["certificateChain": [.string(chain)], "signature": .string(signature)]
                        body = .object(object)
                    }
                    return body
                }

                let factoryKey = SigningKey.generate(.p256)
                let enrolled = DeviceAgent()
                let factoryChain = try factory.issue(to: factoryKey, serial: "SN-1")
                let good = try await client.call(.post, "/v1/enrollments", json: try await body(device: enrolled, factoryKey: factoryKey, chain: factoryChain))
                #expect(good.status == 201, "\(good.text)")
                // What was issued is the device's: its key in the certificate, its DID, and the factory
                // certificate that vouched for it on record.
                let bundle = try JSONDecoder().decode(EnrollmentBundle.self, from: good.body)
                #expect(bundle.did == enrolled.did.description)
                let certificate = try Certificate(pemEncoded: try #require(bundle.certificate))
                #expect(try PublicKey(certificateKey: certificate.publicKey) == enrolled.publicKey)
                #expect(bundle.identityCredential != nil)
                var serializer = DER.Serializer()
                try serializer.serialize(try Certificate(pemEncoded: factoryChain))
                let factoryDigest = SHA256.hash(data: serializer.serializedBytes).map { String(format: "%02x", $0) }.joined()
                let detail = try await client.vouch(.apiKey(admin)).device(bundle.deviceId)
                #expect(detail.factoryCertificate == factoryDigest)
                #expect(detail.device.state == "active")

                let strangerKey = SigningKey.generate(.p256)
                let foreign = try await client.call(.post, "/v1/enrollments", json: try await body(device: DeviceAgent(), factoryKey: strangerKey, chain: try stranger.issue(to: strangerKey, serial: "SN-2")))
                #expect(foreign.status == 401)
                #expect(foreign.json["detail"]?.stringValue?.contains("does not chain") == true, "\(foreign.text)")

                let otherKey = SigningKey.generate(.p256)
                let wrongSigner = try await client.call(.post, "/v1/enrollments", json: try await body(device: DeviceAgent(), factoryKey: otherKey, chain: try factory.issue(to: factoryKey, serial: "SN-3")))
                #expect(wrongSigner.status == 401)
                #expect(wrongSigner.json["detail"]?.stringValue?.contains("signature does not verify") == true, "\(wrongSigner.text)")

                let missing = try await client.call(.post, "/v1/enrollments", json: try await DeviceAgent().enrollmentBody(nonce: try await client.nonce(), group: "factory", token: "ct_x"))
                #expect(missing.status == 400)
                #expect(missing.json["detail"]?.stringValue?.contains("certificateChain") == true, "\(missing.text)")
            }
        }
    }

    /// Hole 6: the factory key signed only the raw nonce, so one factory certificate enrolled any
    /// number of devices with any keys. It signs a labelled message binding the nonce, the group and
    /// the key enrolled; the certificate is recorded and vouches for one standing device unless the
    /// group allows more; the operator's CRLs for the manufacturer's CAs are checked.
    @Test func aFactoryCertificateVouchesForOneKeyOnceAndItsCRLsAreChecked() async throws {
        let factory = try FactoryCA()
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                #expect(try await client.createGroup("factory", apiKey: admin, extra: [
                    "attestation": "manufacturer-ca", "manufacturerRoots": [.string(try factory.rootPEM)],
                ]) == nil)
                func enroll(_ device: DeviceAgent, factoryKey: SigningKey, chain: String, group: String = "factory", signature: ((String) throws -> String)? = nil) async throws -> HTTPResult {
                    let nonce = try await client.nonce()
                    guard case .object(var body) = try await device.enrollmentBody(nonce: nonce, group: group, token: nil) else { throw CancellationError() }
                    let signed = try signature?(nonce) ?? FactoryAttestation.sign(nonce: nonce, group: group, enrolling: device.key.publicKey, with: factoryKey)
                    body["attestation"] = ["certificateChain": [.string(chain)], "signature": .string(signed)]
                    return try await client.call(.post, "/v1/enrollments", json: .object(body))
                }
                let factoryKey = SigningKey.generate(.p256)
                let chain = try factory.issue(to: factoryKey, serial: "SN-100")

                // The old evidence (the raw nonce signed), or a signature for another key or group, is refused.
                expectProblem(try await enroll(DeviceAgent(), factoryKey: factoryKey, chain: chain) { nonce in
                    Base64URL.encode(try factoryKey.signature(for: Array(nonce.utf8)))
                }, 401, "signature does not verify")
                let other = DeviceAgent()
                expectProblem(try await enroll(DeviceAgent(), factoryKey: factoryKey, chain: chain) { nonce in
                    try FactoryAttestation.sign(nonce: nonce, group: "factory", enrolling: other.key.publicKey, with: factoryKey)
                }, 401, "signature does not verify")
                expectProblem(try await enroll(DeviceAgent(), factoryKey: factoryKey, chain: chain) { nonce in
                    try FactoryAttestation.sign(nonce: nonce, group: "another", enrolling: other.key.publicKey, with: factoryKey)
                }, 401, "signature does not verify")

                // One standing device per factory certificate: the first enrolls, the second is refused.
                let first = try await enroll(DeviceAgent(), factoryKey: factoryKey, chain: chain)
                #expect(first.status == 201, "\(first.text)")
                let firstID = try #require(first.json["deviceId"]?.stringValue)
                expectProblem(try await enroll(DeviceAgent(), factoryKey: factoryKey, chain: chain), 409, "already vouches for 1 device")
                // Once the first is decommissioned, the certificate vouches again (a replaced board).
                #expect(try await client.call(.post, "/v1/admin/devices/\(firstID)/decommission", apiKey: admin).status == 200)
                #expect(try await enroll(DeviceAgent(), factoryKey: factoryKey, chain: chain).status == 201)
                // A group may allow more per certificate.
                #expect(try await client.vouch(.apiKey(admin)).updateGroup("factory", GroupRequest(devicesPerFactoryCertificate: 2)).group.rules.devicesPerFactoryCertificate == 2)
                #expect(try await enroll(DeviceAgent(), factoryKey: factoryKey, chain: chain).status == 201)
                expectProblem(try await enroll(DeviceAgent(), factoryKey: factoryKey, chain: chain), 409, "already vouches for 2 device(s)")

                // The operator supplies the manufacturer's CRL: a listed factory certificate is refused,
                // and so is any chain of that issuer while the CRL is out of date.
                let revokedKey = SigningKey.generate(.p256)
                let revokedChain = try factory.issue(to: revokedKey, serial: "SN-666")
                let freshKey = SigningKey.generate(.p256)
                let freshChain = try factory.issue(to: freshKey, serial: "SN-101")
                let crl = try factory.revocationList(revoking: [revokedChain])
                #expect(try await client.vouch(.apiKey(admin)).updateGroup("factory", GroupRequest(manufacturerCRLs: [crl])).group.rules.manufacturerCRLs?.count == 1)
                expectProblem(try await enroll(DeviceAgent(), factoryKey: revokedKey, chain: revokedChain), 401, "revoked by its issuer's CRL")
                #expect(try await enroll(DeviceAgent(), factoryKey: freshKey, chain: freshChain).status == 201)
                let stale = try factory.revocationList(revoking: [], now: Date().addingTimeInterval(-3 * 86_400), validity: 86_400)
                #expect(try await client.vouch(.apiKey(admin)).updateGroup("factory", GroupRequest(manufacturerCRLs: [stale])).group.rules.manufacturerCRLs?.count == 1)
                let anotherKey = SigningKey.generate(.p256)
                expectProblem(try await enroll(DeviceAgent(), factoryKey: anotherKey, chain: try factory.issue(to: anotherKey, serial: "SN-102")), 401, "expired")
                await expectRefusal(422, "manufacturerCRLs[0]") {
                    try await client.vouch(.apiKey(admin)).updateGroup("factory", GroupRequest(manufacturerCRLs: ["not a crl"]))
                }

                // The certificate that vouched is on record with each device.
                let detail = try await client.call(.get, "/v1/admin/devices/\(firstID)", apiKey: admin).json
                #expect(detail["factoryCertificate"]?.stringValue?.count == 64, "\(detail["factoryCertificate"] ?? .null)")
            }
        }
    }
}
