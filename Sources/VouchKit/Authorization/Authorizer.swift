/// Decides authorization requests: deny by default, an explicit deny wins, crossing zones needs a
/// flow rule, the quarantine zone is cut off. The server and offline verifiers call this same code;
/// they differ only in where the subject's statements come from (the current policy, or the role
/// credentials a device presents).
public enum Authorizer {
    /// Decides `request` for `subject` under `zones`.
    public static func decide(_ request: AuthorizationRequest, for subject: AuthorizationSubject, zones: ZoneRules) -> AuthorizationDecision {
        let version = zones.version
        guard zones.zones.contains(subject.zone) else {
            return .deny(
                "zone \(subject.zone) is not defined by policy version \(version); define it, or move device \(subject.device) to a defined zone",
                code: .unknownZone, policyVersion: version
            )
        }
        var denies: [AuthorizationDecision.Reason] = []
        var allows: [AuthorizationDecision.Reason] = []
        var unmet: [AuthorizationDecision.Reason] = []
        let what = "\(request.action) on \(request.resource)"
        for statement in subject.statements {
            // An allow must cover everything asked for; a deny applies if it touches any of it.
            let applies = statement.effect == .allow
                ? statement.covers(action: request.action, resource: request.resource)
                : statement.overlaps(action: request.action, resource: request.resource)
            guard applies else { continue }
            switch (statement.effect, statement.conditions.evaluate(request.context)) {
            case (.deny, .holds):
                denies.append(.init(.explicitDeny, "\(what) is explicitly denied", source: statement.source))
            case (.deny, .unknown(let missing)):
                denies.append(.init(.explicitDeny, "\(what) is explicitly denied unless its conditions are shown not to hold: \(missing)", source: statement.source))
            case (.deny, .fails):
                break
            case (.allow, .holds):
                allows.append(.init(.allowed, "\(what) is allowed", source: statement.source))
            case (.allow, .fails(let why)), (.allow, .unknown(let why)):
                unmet.append(.init(.noAllow, "a statement would allow \(what), but its conditions do not hold: \(why)", source: statement.source))
            }
        }
        if !denies.isEmpty {
            return AuthorizationDecision(allowed: false, reasons: denies, policyVersion: version)
        }
        guard !allows.isEmpty else {
            var reasons = unmet
            if unmet.isEmpty {
                let scope = subject.zone == ZoneRules.quarantineZone
                    ? "device \(subject.device) is quarantined and the quarantine allow-list does not allow \(what)"
                    : "no statement of device \(subject.device)'s roles allows \(what); denied by default"
                reasons.append(.init(.noAllow, scope))
            }
            reasons += subject.notes.map { .init(.note, $0) }
            return AuthorizationDecision(allowed: false, reasons: reasons, policyVersion: version)
        }
        if request.context.peer != nil || request.context.peerZone != nil {
            let peer = request.context.peer ?? "the peer"
            guard let peerZone = request.context.peerZone else {
                return .deny("the zone of \(peer) is not known, so no flow rule can be checked", code: .peer, policyVersion: version)
            }
            guard zones.zones.contains(peerZone) else {
                return .deny("\(peer) is in zone \(peerZone), which policy version \(version) does not define", code: .peer, policyVersion: version)
            }
            if subject.zone == ZoneRules.quarantineZone || peerZone == ZoneRules.quarantineZone {
                let who = subject.zone == ZoneRules.quarantineZone ? "device \(subject.device)" : peer
                return .deny("\(who) is in the quarantine zone, which reaches no device and which no device reaches", code: .quarantine, policyVersion: version)
            }
            if peerZone != subject.zone {
                let flow = zones.flows.lazy.compactMap { flow -> PolicyStatement? in
                    guard flow.from == subject.zone || flow.from == "*", flow.to == peerZone || flow.to == "*" else { return nil }
                    return flow.statements.first { statement in
                        guard statement.covers(action: request.action, resource: request.resource) else { return false }
                        if case .holds = statement.conditions.evaluate(request.context) { return true }
                        return false
                    }
                }.first
                guard let flow else {
                    return AuthorizationDecision(
                        allowed: false,
                        reasons: [.init(.noFlow, "no flow rule lets zone \(subject.zone) reach zone \(peerZone) (\(peer)) for \(what)")],
                        policyVersion: version
                    )
                }
                allows.append(.init(.flow, "zone \(subject.zone) may reach zone \(peerZone) for \(what)", source: flow.source))
            }
        }
        return AuthorizationDecision(allowed: true, reasons: allows, policyVersion: version)
    }
}
