import Testing
import VouchCore
import VouchKit

/// The device lifecycle as a pure state machine: every state × action, where it leads, and what
/// carrying it out must change.
@Suite("Device lifecycle")
struct DeviceLifecycleTests {
    /// Every transition of the state machine, by hand: what each state allows, and where it leads.
    @Test func theStateMachineIsExactlyThis() {
        let expected: [DeviceState: [LifecycleAction: DeviceState]] = [
            .pending: [.approve: .active, .revoke: .revoked, .decommission: .decommissioned],
            .active: [.suspend: .suspended, .quarantine: .quarantined, .revoke: .revoked, .decommission: .decommissioned],
            .suspended: [.reinstate: .active, .revoke: .revoked, .decommission: .decommissioned],
            .quarantined: [.release: .active, .revoke: .revoked, .decommission: .decommissioned],
            .revoked: [.decommission: .decommissioned],
            .decommissioned: [:],
        ]
        for state in DeviceState.allCases {
            for action in LifecycleAction.allCases {
                switch DeviceLifecycle.transition(from: state, on: action) {
                case .success(let next): #expect(expected[state]?[action] == next, "\(state) \(action) → \(next)")
                case .failure(let illegal):
                    #expect(expected[state]?[action] == nil, "\(state) \(action) refused")
                    #expect(illegal.legalActions == LifecycleAction.allCases.filter { expected[state]?[$0] != nil })
                }
            }
            // Only reinstate leads a suspended device back to a state that may act.
            if state == .suspended {
                let acting = LifecycleAction.allCases.filter { (try? DeviceLifecycle.transition(from: state, on: $0).get())?.isInService == true }
                #expect(acting == [.reinstate])
            }
        }
    }

    /// What each action changes, for every state that allows it; every state that does not gets
    /// the same refusal as the transition.
    @Test(arguments: DeviceState.allCases)
    func everyPlanChangesExactlyThis(state: DeviceState) {
        let expected: [LifecycleAction: [LifecycleEffect]] = [
            .approve: [.issueIdentity],
            .suspend: [.holdCertificates, .setStatusBits(.suspension), .advanceRevocations],
            .reinstate: [.resolveHolds(revokingFor: nil), .clearStatusBits(.suspension), .advanceRevocations, .clearMonitoring],
            .quarantine: [.setStatusBits(.suspension), .advanceRevocations],
            .release: [.clearStatusBits(.suspension), .advanceRevocations, .clearMonitoring],
            .revoke: [
                .resolveHolds(revokingFor: .unspecified), .revokeCertificates(.unspecified), .clearStatusBits(.suspension),
                .setStatusBits(.revocation), .advanceRevocations,
            ],
            .decommission: [
                .resolveHolds(revokingFor: .cessationOfOperation), .revokeCertificates(.cessationOfOperation), .clearStatusBits(.suspension),
                .setStatusBits(.revocation), .advanceRevocations,
            ],
        ]
        for action in LifecycleAction.allCases {
            switch (DeviceLifecycle.plan(action, from: state), DeviceLifecycle.transition(from: state, on: action)) {
            case (.success(let plan), .success(let next)):
                #expect(plan.from == state && plan.to == next && plan.action == action)
                #expect(plan.effects == expected[action], "\(state) \(action)")
                #expect(plan.eventKind.rawValue == "device." + action.pastTense)
            case (.failure(let refused), .failure(let illegal)):
                #expect(refused == illegal)
            default:
                Issue.record("\(state) \(action): the plan and the transition disagree")
            }
        }
    }

    /// Revocation and decommissioning record the reason given, or their own when none is.
    @Test func revocationReasons() throws {
        #expect(try DeviceLifecycle.plan(.revoke, from: .active).get().reason == .unspecified)
        #expect(try DeviceLifecycle.plan(.decommission, from: .revoked).get().reason == .cessationOfOperation)
        let compromised = try DeviceLifecycle.plan(.revoke, from: .suspended, reason: .keyCompromise).get()
        #expect(compromised.reason == .keyCompromise)
        #expect(compromised.effects.first == .resolveHolds(revokingFor: .keyCompromise))
        #expect(compromised.effects.contains(.revokeCertificates(.keyCompromise)))
        // Other actions keep the reason an operator gave (it goes in the event), and change nothing by it.
        let suspended = try DeviceLifecycle.plan(.suspend, from: .active, reason: .affiliationChanged).get()
        #expect(suspended.reason == .affiliationChanged)
        #expect(suspended.effects == [.holdCertificates, .setStatusBits(.suspension), .advanceRevocations])
    }

    /// Whatever the state, no plan of an automated response (quarantine, suspend, revoke) leads to a
    /// state that may act from one that may not, and only an operator's reinstate or release clears
    /// monitoring.
    @Test func noAutomaticActionGrantsMore() {
        for state in DeviceState.allCases {
            for action in [LifecycleAction.quarantine, .suspend, .revoke] {
                guard case .success(let plan) = DeviceLifecycle.plan(action, from: state) else { continue }
                #expect(!(!state.mayAct && plan.to.mayAct), "\(state) \(action) → \(plan.to)")
                #expect(!plan.effects.contains(.clearMonitoring))
            }
        }
    }
}
