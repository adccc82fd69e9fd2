import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PropertyBased
import SwiftASN1
import Testing
import VouchAPI
import VouchCore
import VouchKit
import VouchStore
import X509
@testable import VouchCore
@testable import VouchServer

/// The lifecycle against the real authority, as a property: whatever sequence of operator actions
/// and automated responses a device goes through, it is never left able to act while a hold or a
/// revocation is in force (issue 14). "Able to act": a token request with its key, a request with a
/// token it held before, its client certificate. "In force": its certificate on hold or revoked,
/// and, by the model, a suspension no operator has lifted or any revocation.
@Suite("Lifecycle properties")
struct LifecyclePropertyTests {
    enum Step: CustomStringConvertible, Sendable {
        case operatorAction(LifecycleAction)
        case response(MonitoringRules.Action)

        var description: String {
            switch self {
            case .operatorAction(let action): "operator \(action.rawValue)"
            case .response(let action): "rule \(action.rawValue)"
            }
        }
    }

    static let steps: [Step] =
        LifecycleAction.allCases.map(Step.operatorAction) + [MonitoringRules.Action.quarantine, .suspend, .revoke, .stepUp].map(Step.response)

    @Test func noSequenceLeavesADeviceAbleToActUnderAHoldOrRevocation() async throws {
        try await withDataDirectory { dir in
            try await withServices(dataDirectory: dir) { services, client, admin in
                let claimToken = try #require(try await client.createGroup("fleet", apiKey: admin, extra: ["unlimitedTokenUses": true]))
                await propertyCheck(count: 40, input: Gen.int(in: 0...(Self.steps.count - 1)).array(of: 1...8)) { choices in
                    let sequence = choices.map { Self.steps[$0] }
                    do {
                        try await Self.check(sequence, services: services, client: client, claimToken: claimToken)
                    } catch {
                        Issue.record("\(sequence): \(error)")
                    }
                }
            }
        }
    }

    static func check(_ sequence: [Step], services: VouchServices, client: any TestClientProtocol, claimToken: String) async throws {
        let responder = Responder(
            responses: services.monitoring.responses, lifecycle: services.lifecycle, store: services.store, events: services.events, logger: services.logger)
        let device = DeviceAgent()
        let enrolled = try await client.call(
            .post, "/v1/enrollments", json: try await device.enrollmentBody(nonce: try await client.nonce(), group: "fleet", token: claimToken),
            headers: [.init("Prefer")!: "return=minimal"])
        let id = try #require(enrolled.json["deviceId"]?.stringValue, "\(enrolled.text)")
        let heldToken = try await device.accessToken(client, deviceID: id)
        var held = false
        var revoked = false
        for step in sequence {
            let before = try await state(of: id, services)
            switch step {
            case .operatorAction(let action):
                _ = try? await services.lifecycle.apply(action, to: id, reason: nil, actor: "operator")
                let after = try await state(of: id, services)
                if after != before {
                    if action == .suspend { held = true }
                    if action == .reinstate { held = false }
                    if action == .revoke || action == .decommission { revoked = true }
                }
            case .response(let action):
                await responder.carryOut(ResponseOrder(
                    device: id, rule: "property", action: action, dryRun: false, condition: "score < 100", score: 10, trigger: .policyDenied,
                    detail: "generated", signals: [.policyDenied]))
                let after = try await state(of: id, services)
                if after != before {
                    // A response may take privileges away; it never gives any back.
                    #expect(!(before.isInService == false && after.isInService), "\(sequence): \(step) made a \(before) device \(after)")
                    if action == .suspend { held = true }
                    if action == .revoke { revoked = true }
                }
            }
            let certificates = try await services.store.read { try await $0.certificates.of(deviceID: id) }
            let certificateInForce = certificates.contains { $0.revokedAt != nil }
            guard held || revoked || certificateInForce else { continue }
            let state = try await state(of: id, services)
            #expect(!state.mayAct, "\(sequence) after \(step): \(state) while held \(held) revoked \(revoked)")
            #expect(certificates.allSatisfy { $0.revokedAt != nil }, "\(sequence) after \(step): a certificate is good under a hold or revocation")
            let (nonce, proof) = try await device.proof(client, deviceID: id)
            let token = try await client.call(
                .post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: nonce, proof: proof)), headers: try device.dpop(.post, "/v1/auth/token"))
            #expect(token.status == 403, "\(sequence) after \(step): a token request answered \(token.status)")
            let used = try await client.call(.get, "/v1/devices/self", as: heldToken)
            #expect(used.status == 403, "\(sequence) after \(step): a token held before answered \(used.status)")
            for row in certificates {
                let certificate = try Certificate(pemEncoded: row.pem)
                let refusal = await #expect(throws: ServiceError.self, "\(sequence) after \(step): the client certificate was accepted") {
                    _ = try await services.deviceAuth.deviceForClientCertificate(certificate)
                }
                #expect(refusal?.code == .unauthenticated || refusal?.code == .forbidden, "\(sequence) after \(step): \(String(describing: refusal))")
            }
        }
    }

    static func state(of id: String, _ services: VouchServices) async throws -> DeviceState {
        try #require(try await services.store.read { try await $0.devices.find(id: id) }).state
    }
}
