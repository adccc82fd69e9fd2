import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwiftASN1
import Testing
import VouchAPI
import VouchCore
import VouchKit
import X509

@Suite("Enrollment")
struct EnrollmentTests {
    @Test func claimTokenEnrollmentIssuesAChainedCertificateAndVerifiableCredentials() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let token = try #require(try await client.createGroup("sensors", apiKey: admin, extra: ["defaultRoles": ["telemetry"], "requiredAttributes": ["model", "serial"]]))
                let device = DeviceAgent()
                let result = try await client.call(.post, "/v1/enrollments", json: try await device.enrollmentBody(nonce: try await client.nonce(), group: "sensors", token: token))
                #expect(result.status == 201, "\(result.text)")
                let answer = result.json
                #expect(answer["did"]?.stringValue == device.did.description)
                #expect(answer["state"]?.stringValue == "active")
                #expect(answer["roleCredentials"]?.arrayValue.count == 1)

                // The certificate chains to the root through the intermediate, and names the device.
                let certificate = try Certificate(pemEncoded: try #require(answer["certificate"]?.stringValue))
                let chain = try PEMDocument.parseMultiple(pemString: try #require(answer["chain"]?.stringValue)).map { try Certificate(pemDocument: $0) }
                #expect(chain.count == 2)
                var verifier = Verifier(rootCertificates: CertificateStore([chain[1]])) { RFC5280Policy() }
                let validation = await verifier.validate(leaf: certificate, intermediates: CertificateStore([chain[0]]))
                guard case .validCertificate = validation else {
                    Issue.record("the device certificate does not chain: \(validation)")
                    return
                }
                let names = try #require(try certificate.extensions.subjectAlternativeNames)
                #expect(names.contains(.uniformResourceIdentifier(device.did.description)))
                #expect(names.contains { if case .uniformResourceIdentifier(let uri) = $0 { uri.hasPrefix("spiffe://vouch.test/device/dev_") } else { false } })
                #expect(try certificate.extensions.extendedKeyUsage?.contains(.clientAuth) == true)
                #expect(certificate.publicKey == device.key.publicKey.certificatePublicKey)

                // The identity credential verifies with the trust bundle, and carries the attributes.
                let bundleToken = try #require(answer["trustBundle"]?.stringValue)
                let contents = try CompactJWS(parsing: bundleToken).decodePayload(as: TrustBundle.Contents.self)
                let bundle = try await TrustBundle(verifying: bundleToken, authority: try DID(contents.authority))
                let identity = try #require(answer["identityCredential"]?.stringValue)
                let verification = await CredentialVerifier.standard(trust: bundle, statusLists: bundle.statusLists).verify(identity)
                guard case .valid(let verified) = verification else {
                    Issue.record("identity credential does not verify: \(verification)")
                    return
                }
                #expect(verified.credential.types.contains("DeviceIdentityCredential"))
                #expect(verified.credential.subjectIDs == [device.did.description])
                let subject = verified.credential.json["credentialSubject"]
                #expect(subject?["model"]?.stringValue == "m1")
                #expect(subject?["serial"]?.stringValue == "s1")
                #expect(subject?["group"]?.stringValue == "sensors")
                #expect(subject?["zone"]?.stringValue == "default")
            }
        }
    }

    @Test func badEvidenceIsRefusedWithAProblemAndWritesNothing() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let token = try #require(try await client.createGroup("g", apiKey: admin, extra: ["tokenUses": 1]))
                let device = DeviceAgent()
                let other = SigningKey.generate(.p256)

                func attempt(_ body: JSONValue) async throws -> HTTPResult {
                    try await client.call(.post, "/v1/enrollments", json: body)
                }
                expectProblem(try await attempt(try await device.enrollmentBody(nonce: try await client.nonce(), group: "g", token: "ct_wrong")), 401, "claim token is wrong")
                expectProblem(try await attempt(try await device.enrollmentBody(nonce: try await client.nonce(), group: "g", token: token, proofKey: other)), 400, "differs from the key of the proof")
                expectProblem(try await attempt(try await device.enrollmentBody(nonce: try await client.nonce(), group: "g", token: token, proofNonce: "another")), 401, "signs another nonce")
                expectProblem(try await attempt(try await device.enrollmentBody(nonce: "never-issued", group: "g", token: token)), 401, "nonce is unknown")
                expectProblem(try await attempt(try await device.enrollmentBody(nonce: try await client.nonce(), group: "nope", token: token)), 404, "no enrollment group")
                expectProblem(try await attempt(try await device.enrollmentBody(nonce: try await client.nonce(), group: "g", token: token, attributes: ["BAD KEY": "x"])), 422, "attribute name")

                // A forged proof: valid structure, signature by another key under the device's kid.
                var forged = try await device.enrollmentBody(nonce: try await client.nonce(), group: "g", token: token)
                let impostor = try await DeviceAgent(key: other).enrollmentBody(nonce: forged["nonce"]!.stringValue!, group: "g", token: token)
                let parts = impostor["proof"]!.stringValue!.split(separator: ".")
                let realParts = forged["proof"]!.stringValue!.split(separator: ".")
                if case .object(var object) = forged {
                    object["proof"] = .string("\(realParts[0]).\(realParts[1]).\(parts[2])")
                    forged = .object(object)
                }
                expectProblem(try await attempt(forged), 401, "signature does not verify")

                // Garbage bodies are 400 problems, never 5xx.
                expectProblem(try await client.call(.post, "/v1/enrollments", body: Array("{not json".utf8)), 400, "not valid JSON")
                expectProblem(try await client.call(.post, "/v1/enrollments", json: ["nonce": 3]), 400, "nonce")

                // None of the refusals used the token or created a device.
                let devices = try await client.call(.get, "/v1/admin/devices", apiKey: admin).json["devices"]?.arrayValue
                #expect(devices?.isEmpty == true)

                // The single use goes to a good enrollment; the nonce cannot be replayed; the token is then exhausted.
                let nonce = try await client.nonce()
                #expect(try await attempt(try await device.enrollmentBody(nonce: nonce, group: "g", token: token)).status == 201)
                expectProblem(try await attempt(try await DeviceAgent().enrollmentBody(nonce: nonce, group: "g", token: token)), 401, "nonce is unknown")
                expectProblem(try await attempt(try await DeviceAgent().enrollmentBody(nonce: try await client.nonce(), group: "g", token: token)), 401, "no uses left")
                expectProblem(try await attempt(try await device.enrollmentBody(nonce: try await client.nonce(), group: "g", token: token)), 409, "already enrolled")
            }
        }
    }

    @Test func manualApprovalAnswers202ThenIssuesOnApproval() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let operator_ = client.vouch(.apiKey(admin))
                let token = try #require(try await operator_.createGroup(GroupRequest(name: "manual", unlimitedTokenUses: true, approval: .manual)).claimToken)
                let device = DeviceAgent()
                let anonymous = client.vouch()
                let nonce = try await anonymous.enrollmentNonce().nonce
                let answer = try await anonymous.exchange(
                    "POST", "/v1/enrollments", body: .json(try await device.enrollmentRequest(nonce: nonce, group: "manual", claimToken: token)))
                #expect(answer.status == 202, "\(answer.text)")
                let pending = try answer.decode(EnrollmentBundle.self)
                #expect(pending.state == "pending")
                #expect(pending.did == device.did.description)
                #expect(pending.certificate == nil && pending.identityCredential == nil && pending.roleCredentials.isEmpty)
                let id = pending.deviceId
                // Only the device, proving its key, polls (hole 7: anyone could read any enrollment).
                let polling = try await device.client(anonymous).enrollment(id)
                #expect(polling.deviceId == id)
                #expect(polling.state == "pending")
                #expect(polling.certificate == nil)
                await expectRefusal(401, "send a DPoP proof") { try await anonymous.enrollment(id) }
                await expectRefusal(404, "no enrollment") { try await DeviceAgent().client(anonymous).enrollment(id) }
                await expectRefusal(404, "no enrollment") { try await device.client(anonymous).enrollment("dev_nobody") }
                let approved = try await operator_.act(.approve, on: id)
                #expect(approved.device.state == "active")
                let issued = try await device.client(anonymous).enrollment(id)
                #expect(issued.state == "active")
                let certificate = try Certificate(pemEncoded: try #require(issued.certificate))
                #expect(try PublicKey(certificateKey: certificate.publicKey) == device.publicKey)
                #expect(issued.identityCredential != nil)
            }
        }
    }

    /// Enrollments that arrive together are written together (group commit), yet each is answered on
    /// its own: of a burst enrolling one key, one wins and the rest are told why; a bad nonce among
    /// them refuses only its own request.
    @Test func aBurstOfEnrollmentsIsAnsweredOneByOne() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let token = try #require(try await client.createGroup("burst", apiKey: admin, extra: ["unlimitedTokenUses": true]))
                let shared = DeviceAgent()
                let sharedNonce = try await client.nonce()
                let statuses = try await withThrowingTaskGroup(of: (String, Int, String).self) { group in
                    for index in 0..<14 {
                        group.addTask {
                            let kind = index < 6 ? "same-key" : (index == 6 ? "bad-nonce" : (index < 12 ? "distinct" : "same-nonce"))
                            let device = kind == "same-key" ? shared : DeviceAgent()
                            let nonce =
                                switch kind {
                                case "bad-nonce": "not-a-nonce"
                                case "same-nonce": sharedNonce
                                default: try await client.nonce()
                                }
                            let body = try await device.enrollmentBody(nonce: nonce, group: "burst", token: token)
                            let result = try await client.call(.post, "/v1/enrollments", json: body)
                            return (kind, result.status, result.json["detail"]?.stringValue ?? "")
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                let sameKey = statuses.filter { $0.0 == "same-key" }
                #expect(sameKey.filter { $0.1 == 201 }.count == 1, "\(sameKey)")
                #expect(sameKey.filter { $0.1 == 409 }.count == 5, "\(sameKey)")
                #expect(statuses.filter { $0.0 == "distinct" }.allSatisfy { $0.1 == 201 }, "\(statuses)")
                #expect(statuses.first { $0.0 == "bad-nonce" }?.1 == 401)
                // Two keys racing with one nonce: it serves one of them.
                var nonceRace: [Int] = []
                for (kind, status, _) in statuses where kind == "same-nonce" {
                    nonceRace.append(status)
                }
                #expect(nonceRace.sorted() == [201, 401], "\(statuses)")
                let events = try await client.call(.get, "/v1/events?after=0&limit=1000", apiKey: admin).json["events"]?.arrayValue ?? []
                let sequence = events.compactMap { $0["seq"]?.numberValue.map { Int($0) } }
                #expect(sequence == Array(1...sequence.count))
                #expect(events.filter { $0["kind"]?.stringValue == "device.enrolled" }.count == 7)
            }
        }
    }
}
