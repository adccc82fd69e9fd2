import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VouchKit
import VouchTesting

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

                func body(device: TestDevice, factoryKey: SigningKey, chain: String, signNonce: String? = nil) async throws -> JSONValue {
                    let nonce = try await client.nonce()
                    var body = try await device.enrollmentBody(nonce: nonce, group: "factory", token: nil)
                    let signature = Base64URL.encode(try factoryKey.signature(for: Array((signNonce ?? nonce).utf8)))
                    if case .object(var object) = body {
                        object["attestation"] = ["certificateChain": [.string(chain)], "signature": .string(signature)]
                        body = .object(object)
                    }
                    return body
                }

                let factoryKey = SigningKey.generate(.p256)
                let good = try await client.call(.post, "/v1/enrollments", json: try await body(device: TestDevice(), factoryKey: factoryKey, chain: try factory.issue(to: factoryKey, serial: "SN-1")))
                #expect(good.status == 201, "\(good.text)")

                let strangerKey = SigningKey.generate(.p256)
                let foreign = try await client.call(.post, "/v1/enrollments", json: try await body(device: TestDevice(), factoryKey: strangerKey, chain: try stranger.issue(to: strangerKey, serial: "SN-2")))
                #expect(foreign.status == 401)
                #expect(foreign.json["detail"]?.stringValue?.contains("does not chain") == true, "\(foreign.text)")

                let otherKey = SigningKey.generate(.p256)
                let wrongSigner = try await client.call(.post, "/v1/enrollments", json: try await body(device: TestDevice(), factoryKey: otherKey, chain: try factory.issue(to: factoryKey, serial: "SN-3")))
                #expect(wrongSigner.status == 401)
                #expect(wrongSigner.json["detail"]?.stringValue?.contains("signature over the nonce") == true, "\(wrongSigner.text)")

                let missing = try await client.call(.post, "/v1/enrollments", json: try await TestDevice().enrollmentBody(nonce: try await client.nonce(), group: "factory", token: "ct_x"))
                #expect(missing.status == 400)
                #expect(missing.json["detail"]?.stringValue?.contains("certificateChain") == true, "\(missing.text)")
            }
        }
    }
}
