import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import VouchAPI
import VouchKit

/// One table of cases, decided twice: by the server (`POST /v1/authorize`), and offline by a
/// gateway holding only the trust bundle and the device's presentation, through VouchKit's
/// `Authorizer`. The answers must agree.
@Suite("Offline and online decisions agree")
struct OfflineAuthorizationTests {
    struct Case: Sendable, CustomStringConvertible {
        var action: String
        var resource: String
        /// `%` stands for the subject's device id.
        var peer: Peer = .none
        var sourceAddress: String?
        var allowed: Bool
        var description: String { "\(action) \(resource) peer \(peer) from \(sourceAddress ?? "-") → \(allowed)" }
    }

    enum Peer: Sendable { case none, sameZone, ops, lobby }

    static let cases: [Case] = [
        Case(action: "publish", resource: "telemetry/%/temp", allowed: true),
        Case(action: "publish", resource: "telemetry/%/debug", allowed: false),
        Case(action: "publish", resource: "telemetry/someone-else/temp", allowed: false),
        Case(action: "subscribe", resource: "commands/%", allowed: true),
        Case(action: "subscribe", resource: "commands/+", allowed: false),
        Case(action: "subscribe", resource: "commands/#", allowed: false),
        Case(action: "read", resource: "firmware/t1000/fw-2.bin", allowed: true),
        Case(action: "read", resource: "firmware/t1000/a/b", allowed: false),
        Case(action: "read", resource: "firmware/t2000/fw-2.bin", allowed: false),
        Case(action: "delete", resource: "telemetry/%/temp", allowed: false),
        Case(action: "publish", resource: "telemetry/%/temp", peer: .sameZone, allowed: true),
        Case(action: "publish", resource: "telemetry/%/temp", peer: .ops, allowed: true),
        Case(action: "publish", resource: "telemetry/%/temp", peer: .lobby, allowed: false),
        Case(action: "subscribe", resource: "commands/%", peer: .ops, allowed: false),
        Case(action: "write", resource: "config/line-3/rate", sourceAddress: "10.9.8.7", allowed: true),
        Case(action: "write", resource: "config/line-3/rate", sourceAddress: "192.0.2.1", allowed: false),
        Case(action: "write", resource: "config/line-3/rate", allowed: false),
        Case(action: "write", resource: "config/plant-ops/rate", sourceAddress: "10.9.8.7", allowed: false),
    ]

    @Test func everyCaseIsDecidedAlikeOnlineAndOffline() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML).status == 201)
                let device = DeviceAgent()
                let (id, answer) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor", "maintenance"], device: device)
                let (neighbour, _) = try await fleet.enroll(group: "sensors-2", zone: "line-3", roles: [])
                let (ops, _) = try await fleet.enroll(group: "ops", zone: "plant-ops", roles: [])
                let (lobby, _) = try await fleet.enroll(group: "lobby", zone: "default", roles: [])
                let peers: [Peer: (id: String, zone: String)] = [.sameZone: (neighbour, "line-3"), .ops: (ops, "plant-ops"), .lobby: (lobby, "default")]

                // The gateway's only inputs: the signed trust bundle and what the device presents.
                let bundleToken = try #require(answer["trustBundle"]?.stringValue)
                let contents = try CompactJWS(parsing: bundleToken).decodePayload(as: TrustBundle.Contents.self)
                let bundle = try await TrustBundle(verifying: bundleToken, authority: try DID(contents.authority))
                let zones = try #require(bundle.zoneRules)
                #expect(zones.version == 1)
                let credentials = try PolicyFleet.credentials(in: answer)
                let presentation = try await Presentation.create(credentials: credentials, holderKey: device.key, nonce: "gateway-nonce", audience: "did:web:gateway")
                let verified = await PresentationVerifier.standard(
                    nonce: "gateway-nonce", audience: "did:web:gateway", trust: bundle, credentialVerifier: .standard(trust: bundle)
                ).verify(presentation)
                guard case .valid(let checked) = verified else {
                    Issue.record("the presentation does not verify offline: \(verified.failures)")
                    return
                }
                let subject = try AuthorizationSubject(verified: checked)
                #expect(subject.device == id)
                #expect(subject.zone == "line-3")

                let now = Date()
                for test in Self.cases {
                    let resource = test.resource.replacingOccurrences(of: "%", with: id)
                    var context: [String: JSONValue] = ["time": .string(RFC3339.format(now))]
                    var offlineContext = AuthorizationContext(time: now)
                    if let address = test.sourceAddress {
                        context["sourceAddress"] = .string(address)
                        offlineContext.sourceAddress = IPAddress(address)
                    }
                    if let peer = peers[test.peer] {
                        context["peer"] = .string(peer.id)
                        offlineContext.peer = peer.id
                        offlineContext.peerZone = peer.zone
                    }
                    let online = try await fleet.allowed(id, test.action, resource, context: context)
                    let offline = Authorizer.decide(
                        try AuthorizationRequest(action: test.action, resource: resource, context: offlineContext), for: subject, zones: zones
                    )
                    #expect(online == test.allowed, "online: \(test)")
                    #expect(offline.allowed == test.allowed, "offline: \(test): \(offline.reasons)")
                }

                // Quarantined: the server confines the device to its allow-list; offline, its
                // credentials are suspended, so a gateway refuses the presentation outright.
                #expect(try await client.call(.post, "/v1/admin/devices/\(id)/quarantine", apiKey: admin).status == 200)
                #expect(try await !fleet.allowed(id, "publish", "telemetry/\(id)/temp"))
                let freshToken = try await client.call(.get, "/v1/trust-bundle").text
                let fresh = try await TrustBundle(verifying: freshToken, authority: try DID(contents.authority))
                let refused = await PresentationVerifier.standard(
                    nonce: "gateway-nonce", audience: "did:web:gateway", trust: fresh, credentialVerifier: .standard(trust: fresh)
                ).verify(presentation)
                #expect(!refused.isValid)
                #expect(refused.failures.contains { $0.reason.contains("suspended") }, "\(refused.failures)")
            }
        }
    }

    @Test func movingADeviceRevokesTheCredentialsOfflineVerifiersHold() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                #expect(try await fleet.upload(plantPolicyYAML).status == 201)
                let device = DeviceAgent()
                let (id, answer) = try await fleet.enroll(group: "sensors", zone: "line-3", roles: ["sensor"], device: device)
                let credentials = try PolicyFleet.credentials(in: answer)
                let presentation = try await Presentation.create(credentials: credentials, holderKey: device.key, nonce: "n", audience: "did:web:gateway")
                func verifies() async throws -> PresentationVerificationResult {
                    let token = try await client.call(.get, "/v1/trust-bundle").text
                    let contents = try CompactJWS(parsing: token).decodePayload(as: TrustBundle.Contents.self)
                    let bundle = try await TrustBundle(verifying: token, authority: try DID(contents.authority))
                    return await PresentationVerifier.standard(nonce: "n", audience: "did:web:gateway", trust: bundle, credentialVerifier: .standard(trust: bundle))
                        .verify(presentation)
                }
                #expect(try await verifies().isValid)
                // Adding a role narrows nothing: the credentials stand.
                #expect(try await client.vouch(.apiKey(admin)).assign(id, AssignmentRequest(roles: ["sensor", "maintenance"])).roles == ["sensor", "maintenance"])
                #expect(try await verifies().isValid)
                // Moving the device does: offline verifiers now refuse the old zone's credentials.
                #expect(try await client.vouch(.apiKey(admin)).assign(id, AssignmentRequest(zone: "plant-ops")).zone == "plant-ops")
                let refused = try await verifies()
                #expect(refused.failures.contains { $0.reason.contains("revoked") }, "\(refused.failures)")
                let history = try await client.call(.get, "/v1/admin/devices/\(id)", apiKey: admin).json["history"]?.arrayValue ?? []
                #expect(history.contains { $0["kind"] == "device.assigned" && $0["data"]?["credentialsRevoked"] == true })
            }
        }
    }

    @Test func credentialsIssuedWithoutAPolicyAllowNothingOffline() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let fleet = PolicyFleet(client: client, admin: admin)
                let device = DeviceAgent()
                let (_, answer) = try await fleet.enroll(group: "sensors", zone: "default", roles: ["sensor"], device: device)
                let role = try #require(answer["roleCredentials"]?.arrayValue.first?.stringValue)
                let credential = try Credential(payload: try CompactJWS(parsing: role).payload)
                let subject = try AuthorizationSubject(roleCredentials: [credential])
                #expect(subject.statements.isEmpty)
                let decision = Authorizer.decide(
                    try AuthorizationRequest(action: "publish", resource: "telemetry/x"), for: subject, zones: ZoneRules(version: 0, zones: [], flows: [])
                )
                #expect(!decision.allowed)
                #expect(decision.reasons.contains { $0.message.contains("carries no capabilities") })
                #expect(throws: AuthorizationError.self) { try AuthorizationSubject(roleCredentials: []) }
            }
        }
    }
}
