import Foundation
import HummingbirdTesting
import Testing
import VouchAPI
import VouchKit
import VouchStore
@testable import VouchCore
@testable import VouchServer

/// What the monitor's orders do: each lifecycle action, the dry run, and that no order lifts a hold.
@Suite("Automated responses")
struct ResponderTests {
    static func responder(_ services: VouchServices) -> Responder {
        Responder(responses: services.monitoring.responses, lifecycle: services.lifecycle, store: services.store, events: services.events, logger: services.logger)
    }

    static func order(_ device: String, _ action: MonitoringRules.Action, dryRun: Bool = false) -> ResponseOrder {
        ResponseOrder(
            device: device, rule: "too-many-denials", action: action, dryRun: dryRun, condition: "score < 40", score: 12, trigger: .policyDenied,
            detail: "denied 30 times in a minute", signals: [.policyDenied, .replay])
    }

    /// An active device in group `fleet`.
    static func enroll(_ client: any TestClientProtocol, admin: String, approval: ApprovalMode = .auto) async throws -> (DeviceAgent, String) {
        let operator_ = client.vouch(.apiKey(admin))
        let groups = try await operator_.groups()
        let token: String?
        if let existing = groups.first(where: { $0.name == "fleet" }) {
            token = try await operator_.updateGroup(existing.id, GroupRequest(rotateToken: true)).claimToken
        } else {
            token = try await operator_.createGroup(GroupRequest(name: "fleet", unlimitedTokenUses: true, approval: approval)).claimToken
        }
        let device = DeviceAgent()
        let bundle = try await device.enroll(client.vouch(), group: "fleet", claimToken: try #require(token))
        return (device, bundle.deviceId)
    }

    /// The device's events by the monitor, oldest first.
    static func monitorEvents(_ client: any TestClientProtocol, admin: String, device id: String) async throws -> [DeviceDetail.EventView] {
        try await client.vouch(.apiKey(admin)).device(id).history.filter { $0.actor == "monitor:too-many-denials" }
    }

    @Test func aSuspendOrderHoldsTheDeviceAndItsCertificateAndSaysWhy() async throws {
        try await withDataDirectory { dir in
            try await withServices(dataDirectory: dir) { services, client, admin in
                let (device, id) = try await Self.enroll(client, admin: admin)
                await Self.responder(services).carryOut(Self.order(id, .suspend))

                let detail = try await client.vouch(.apiKey(admin)).device(id)
                #expect(detail.device.state == "suspended")
                #expect(!detail.certificates.isEmpty && detail.certificates.allSatisfy { $0.status == "on-hold" }, "\(detail.certificates)")
                let events = try await Self.monitorEvents(client, admin: admin, device: id)
                #expect(events.map(\.kind) == [EventKind.deviceSuspended.rawValue])
                let cause = events.first?.data["cause"]
                #expect(cause?["rule"] == "too-many-denials")
                #expect(cause?["score"] == 12)
                #expect(cause?["signals"] == ["policy.denied", "telemetry.replay"])
                #expect(cause?["action"] == "suspend")
                // The detector's own words stay out of the public log.
                #expect(cause?["detail"] == nil && cause != nil)
                await expectRefusal(403, "suspended") { try await client.vouch().authenticated(deviceId: id, agent: device) }
                // An operator lifts the hold; the certificate is good again.
                _ = try await client.vouch(.apiKey(admin)).act(.reinstate, on: id)
                #expect(try await client.vouch(.apiKey(admin)).device(id).certificates.allSatisfy { $0.status == "good" })
            }
        }
    }

    @Test func aRevokeOrderRevokesTheDeviceForGood() async throws {
        try await withDataDirectory { dir in
            try await withServices(dataDirectory: dir) { services, client, admin in
                let (device, id) = try await Self.enroll(client, admin: admin)
                await Self.responder(services).carryOut(Self.order(id, .revoke))

                let detail = try await client.vouch(.apiKey(admin)).device(id)
                #expect(detail.device.state == "revoked")
                #expect(detail.device.legalActions == ["decommission"])
                #expect(!detail.certificates.isEmpty && detail.certificates.allSatisfy { $0.status == "revoked" }, "\(detail.certificates)")
                #expect(try await Self.monitorEvents(client, admin: admin, device: id).map(\.kind) == [EventKind.deviceRevoked.rawValue])
                // Its credentials are revoked in the status list too.
                let (indexes, revokedBits) = try await services.store.read { session in
                    let indexes = try await session.credentials.statusIndexes(deviceID: id)
                    return (indexes, try await session.statusBits.set(.revocation, in: 0..<(1 << 17)))
                }
                #expect(!indexes.isEmpty && Set(indexes).isSubset(of: Set(revokedBits)), "\(indexes) \(revokedBits)")
                await expectRefusal(403, "revoked") { try await client.vouch().authenticated(deviceId: id, agent: device) }
                await expectRefusal(409, "revoked") { try await client.vouch(.apiKey(admin)).act(.reinstate, on: id) }
            }
        }
    }

    @Test func aDryRunRecordsTheOrderAndChangesNothing() async throws {
        try await withDataDirectory { dir in
            try await withServices(dataDirectory: dir) { services, client, admin in
                let (device, id) = try await Self.enroll(client, admin: admin)
                await Self.responder(services).carryOut(Self.order(id, .revoke, dryRun: true))

                let detail = try await client.vouch(.apiKey(admin)).device(id)
                #expect(detail.device.state == "active")
                #expect(detail.certificates.allSatisfy { $0.status == "good" })
                let events = try await Self.monitorEvents(client, admin: admin, device: id)
                #expect(events.map(\.kind) == [EventKind.monitorDryRun.rawValue])
                #expect(events.first?.data["action"] == "revoke")
                _ = try await client.vouch().authenticated(deviceId: id, agent: device)
            }
        }
    }

    @Test func noOrderLiftsAnOperatorsHold() async throws {
        try await withDataDirectory { dir in
            try await withServices(dataDirectory: dir) { services, client, admin in
                let (_, id) = try await Self.enroll(client, admin: admin)
                _ = try await client.vouch(.apiKey(admin)).act(.suspend, on: id)
                for action in [MonitoringRules.Action.quarantine, .stepUp, .revoke] {
                    await Self.responder(services).carryOut(Self.order(id, action))
                }
                let detail = try await client.vouch(.apiKey(admin)).device(id)
                #expect(detail.device.state == "suspended")
                #expect(detail.certificates.allSatisfy { $0.status == "on-hold" })
                let events = try await Self.monitorEvents(client, admin: admin, device: id)
                #expect(events.map(\.kind) == Array(repeating: EventKind.monitorSkipped.rawValue, count: 3))
                #expect(events.first?.data["why"]?.stringValue?.contains("only an operator changes it") == true)
            }
        }
    }

    @Test func metricsShowTheOrdersNotYetCarriedOut() async throws {
        try await withDataDirectory { dir in
            try await withServices(dataDirectory: dir) { services, client, admin in
                let (_, first) = try await Self.enroll(client, admin: admin)
                let (_, second) = try await Self.enroll(client, admin: admin)
                let operator_ = client.vouch(.apiKey(admin))
                #expect(try await operator_.metric("vouch_responses_pending") == 0)
                #expect(services.monitoring.responses.submit([Self.order(first, .quarantine), Self.order(second, .suspend)]).isEmpty)
                #expect(try await operator_.metric("vouch_responses_pending") == 2)
                // The responder takes them: the gauge falls to 0 once both are carried out.
                let responder = Task { try await Self.responder(services).run() }
                defer { responder.cancel() }
                let deadline = ContinuousClock.now + .seconds(10)
                while try await operator_.metric("vouch_responses_pending") != 0, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(try await operator_.metric("vouch_responses_pending") == 0)
                #expect(try await operator_.device(first).device.state == "quarantined")
                #expect(try await operator_.device(second).device.state == "suspended")
            }
        }
    }

    @Test func renewalIsRefusedForADeviceThatIsNotActive() async throws {
        try await withDataDirectory { dir in
            try await withServices(dataDirectory: dir) { services, client, admin in
                let (device, id) = try await Self.enroll(client, admin: admin, approval: .manual)
                let pending = try #require(try await services.store.read { try await $0.devices.find(id: id) })
                #expect(pending.state == .pending)
                // A pending device gets no token, so the API never lets it ask to renew; the
                // service refuses it too, should one get that far.
                await expectRefusal(403, "pending") { try await client.vouch().authenticated(deviceId: id, agent: device) }
                let refusal = await #expect(throws: ServiceError.self) { try await services.enrollment.renew(pending) }
                #expect(refusal?.code == .conflict)
                #expect(refusal?.detail.contains("is pending; only an active device renews") == true, "\(String(describing: refusal))")
                #expect(try await services.store.read { try await $0.certificates.of(deviceID: id) }.isEmpty)
            }
        }
    }
}
