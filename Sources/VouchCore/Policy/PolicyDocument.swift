import VouchKit

/// A policy document: zones and the flows between them, roles with their capabilities, and the
/// quarantine allow-list. Written in YAML or JSON:
///
/// ```yaml
/// zones:
///   line-3: {description: Assembly line 3}
///   plant-ops: {}
/// flows:
///   - from: line-3
///     to: plant-ops
///     allow: ["publish:telemetry/#"]
/// roles:
///   sensor:
///     allow:
///       - publish:telemetry/${device.id}/#
///       - subscribe:commands/${device.id}
///       - read:firmware/${device.model}/*
///     deny:
///       - publish:telemetry/${device.id}/debug
///     statements:
///       - effect: allow
///         actions: [connect]
///         resources: [zone/line-3]
///         conditions: {sourceAddresses: [10.0.0.0/8], timeOfDay: "06:00-22:00"}
/// quarantine:
///   allow: ["attest:device/${device.id}", "read:firmware/${device.model}/#"]
/// monitoring:
///   responses:
///     - when score < 40 or signal == firmware.unknown then quarantine
/// ```
///
/// The `monitoring` section (see ``MonitoringRules``) sets the detectors' thresholds and the
/// automated responses, so that one versioned document governs what devices may do and what
/// happens when they misbehave.
///
/// `default` and `quarantine` are built-in zones. Without a `quarantine` section the allow-list is
/// ``defaultQuarantineAllowList``. Unknown keys, malformed patterns and undefined zones are refused,
/// each with its place.
public struct PolicyDocument: Sendable, Hashable {
    /// A zone: a name devices are placed in.
    public struct Zone: Sendable, Hashable {
        /// The zone's name.
        public let name: String
        /// What it is, for people.
        public let description: String?
    }

    /// A role: a named set of statements devices are given.
    public struct Role: Sendable, Hashable {
        /// The role's name.
        public let name: String
        /// What it is for, for people.
        public let description: String?
        /// Allow and deny statements, in the order written (allow, deny, then statements).
        public let statements: [StatementTemplate]
    }

    /// What devices of one zone may do to devices of another.
    public struct Flow: Sendable, Hashable {
        /// A zone, or `*`.
        public let from: String
        /// A zone, or `*`.
        public let to: String
        /// What it is for, for people.
        public let description: String?
        /// Allow statements.
        public let statements: [StatementTemplate]
    }

    /// What the policy is, for people.
    public let description: String?
    /// Zones defined (the built-in `default` and `quarantine` are not listed).
    public let zones: [Zone]
    /// Roles, in the order written.
    public let roles: [Role]
    /// Flows between zones.
    public let flows: [Flow]
    /// What a quarantined device may still do.
    public let quarantineAllowList: [StatementTemplate]
    /// Thresholds, signal weights and response rules.
    public let monitoring: MonitoringRules
    /// Topics whose messages must be telemetry envelopes (`vouch-telemetry+jwt`) signed by the
    /// publishing device: brokers that enforce Vouch drop anything else published there. Written
    /// `signed: ["telemetry/#"]`; device variables are not allowed.
    public let signedTopics: [ResourcePattern]

    /// The allow-list of the quarantine zone when a policy does not give one: re-attestation and
    /// firmware updates.
    /// The actions a statement may name without declaring them: what MQTT brokers ask (connect,
    /// publish, subscribe, receive), what HTTP gateways ask (read, write, delete), and what the
    /// authority's own flows use (attest, update). A policy adds its own under `actions:`, so that a
    /// misspelt one (`subscrib`) is refused instead of silently never matching.
    public static let builtInActions: Set<String> = ["attest", "connect", "delete", "publish", "read", "receive", "subscribe", "update", "write"]

    public static let defaultQuarantineAllowList = ["attest:device/${device.id}", "read:firmware/${device.model}/#", "update:firmware/${device.id}"]

    /// The policy in force before any is uploaded: the built-in zones, no roles, so everything is denied.
    public static let empty: PolicyDocument = {
        // The text is fixed and valid.
        try! PolicyDocument(parsing: "{}")
    }()

    /// Parses and validates a document; throws with every problem found.
    public init(parsing text: String) throws(PolicyDocumentError) {
        let root = try PolicyNode.parse(text)
        var reader = PolicyReader()
        let parsed = reader.document(root)
        guard reader.problems.isEmpty, let parsed else {
            // In the order written (YAML has positions; JSON keeps the order found).
            let ordered = reader.problems.enumerated().sorted { a, b in
                let left = (a.element.location.line ?? 0, a.element.location.column ?? 0, a.offset)
                let right = (b.element.location.line ?? 0, b.element.location.column ?? 0, b.offset)
                return left < right
            }
            throw PolicyDocumentError(ordered.map(\.element))
        }
        self = parsed
    }

    init(
        description: String?, zones: [Zone], roles: [Role], flows: [Flow], quarantineAllowList: [StatementTemplate],
        monitoring: MonitoringRules = .standard, signedTopics: [ResourcePattern] = []
    ) {
        self.signedTopics = signedTopics
        self.description = description
        self.zones = zones
        self.roles = roles
        self.flows = flows
        self.quarantineAllowList = quarantineAllowList
        self.monitoring = monitoring
    }

    /// Zone names, the built-in ones included.
    public var zoneNames: Set<String> {
        Set(zones.map(\.name)).union([ZoneRules.defaultZone, ZoneRules.quarantineZone])
    }
}

/// Reads a ``PolicyNode`` tree into a ``PolicyDocument``, collecting every problem.
struct PolicyReader {
    var problems: [PolicyProblem] = []
    /// The actions statements may name: the built-in ones and those the document declares.
    var actions = PolicyDocument.builtInActions

    mutating func problem(_ path: String, _ node: PolicyNode?, _ message: String) {
        problems.append(PolicyProblem(path: path, location: node?.location ?? .unknown, message: message))
    }

    mutating func document(_ root: PolicyNode) -> PolicyDocument? {
        if case .null = root { return PolicyDocument(description: nil, zones: [], roles: [], flows: [], quarantineAllowList: defaultQuarantine()) }
        guard let members = map(root, "", known: ["description", "actions", "zones", "roles", "flows", "quarantine", "monitoring", "signed"]) else { return nil }
        let description = members["description"].flatMap { string($0, "description") }
        if let node = members["actions"], let items = list(node, "actions") {
            for (index, item) in items.enumerated() {
                guard let name = string(item, "actions[\(index)]") else { continue }
                do {
                    try PolicyStatement.checkAction(name, allowingWildcard: false)
                    actions.insert(name)
                } catch {
                    problem("actions[\(index)]", item, error.reason)
                }
            }
        }
        var zones: [PolicyDocument.Zone] = []
        if let node = members["zones"], let entries = entries(node, "zones") {
            for (name, value) in entries {
                let path = "zones.\(name)"
                if name == ZoneRules.quarantineZone {
                    problem(path, value, "quarantine is a built-in zone; give its allow-list under quarantine.allow")
                    continue
                }
                guard EnrollmentRules.isName(name) else {
                    problem(path, value, "a zone name must be 1–64 characters of a–z, 0–9, '-', '_' or '.'")
                    continue
                }
                if case .null = value {
                    zones.append(.init(name: name, description: nil))
                } else if let fields = map(value, path, known: ["description"]) {
                    zones.append(.init(name: name, description: fields["description"].flatMap { string($0, path + ".description") }))
                }
            }
        }
        let zoneNames = Set(zones.map(\.name)).union([ZoneRules.defaultZone, ZoneRules.quarantineZone])
        var roles: [PolicyDocument.Role] = []
        if let node = members["roles"], let entries = entries(node, "roles") {
            for (name, value) in entries {
                let path = "roles.\(name)"
                guard EnrollmentRules.isName(name) else {
                    problem(path, value, "a role name must be 1–64 characters of a–z, 0–9, '-', '_' or '.'")
                    continue
                }
                guard let fields = map(value, path, known: ["description", "allow", "deny", "statements"]) else { continue }
                var statements: [StatementTemplate] = []
                statements += capabilities(fields["allow"], path + ".allow", effect: .allow, zones: zoneNames)
                statements += capabilities(fields["deny"], path + ".deny", effect: .deny, zones: zoneNames)
                if let node = fields["statements"], let items = list(node, path + ".statements") {
                    for (index, item) in items.enumerated() {
                        if let statement = fullStatement(item, "\(path).statements[\(index)]", zones: zoneNames) { statements.append(statement) }
                    }
                }
                roles.append(.init(name: name, description: fields["description"].flatMap { string($0, path + ".description") }, statements: statements))
            }
        }
        var flows: [PolicyDocument.Flow] = []
        if let node = members["flows"], let items = list(node, "flows") {
            for (index, item) in items.enumerated() {
                let path = "flows[\(index)]"
                guard let fields = map(item, path, known: ["from", "to", "description", "allow"]) else { continue }
                var ends: [String] = []
                for end in ["from", "to"] {
                    guard let node = fields[end] else {
                        problem(path, item, "a flow needs \(end): a zone, or *")
                        continue
                    }
                    guard let zone = string(node, "\(path).\(end)") else { continue }
                    if zone == ZoneRules.quarantineZone {
                        problem("\(path).\(end)", node, "the quarantine zone has no flows: it reaches nothing and nothing reaches it")
                    } else if zone != "*" && !zoneNames.contains(zone) {
                        problem("\(path).\(end)", node, "zone \(zone.prefix(64)) is not defined under zones")
                    } else {
                        ends.append(zone)
                    }
                }
                guard let allow = fields["allow"] else {
                    problem(path, item, "a flow needs allow: a list of ACTION:RESOURCE capabilities")
                    continue
                }
                let statements = capabilities(allow, path + ".allow", effect: .allow, zones: zoneNames)
                for statement in statements where statement.hasVariables {
                    problem(statement.source, allow, "flows are between zones: a flow's resources cannot use device variables")
                }
                if ends.count == 2 {
                    flows.append(.init(from: ends[0], to: ends[1], description: fields["description"].flatMap { string($0, path + ".description") }, statements: statements))
                }
            }
        }
        var quarantine = defaultQuarantine()
        if let node = members["quarantine"], let fields = map(node, "quarantine", known: ["allow"]) {
            quarantine = fields["allow"].map { capabilities($0, "quarantine.allow", effect: .allow, zones: zoneNames) } ?? []
        }
        let monitoring = members["monitoring"].map { monitoringRules($0, zones: zoneNames) } ?? .standard
        var signed: [ResourcePattern] = []
        if let node = members["signed"], let items = list(node, "signed") {
            for (index, item) in items.enumerated() {
                guard let text = string(item, "signed[\(index)]") else { continue }
                do {
                    signed.append(try ResourcePattern(text))
                } catch {
                    problem("signed[\(index)]", item, error.reason + " (signed topics are MQTT topic filters such as telemetry/#)")
                }
            }
        }
        return PolicyDocument(
            description: description, zones: zones, roles: roles, flows: flows, quarantineAllowList: quarantine, monitoring: monitoring,
            signedTopics: signed)
    }

    /// Whether every action `statement` names is one the policy knows; a problem names the others.
    private mutating func knowsActions(of statement: StatementTemplate, _ path: String, _ node: PolicyNode?) -> Bool {
        let unknown = statement.actions.filter { $0 != "*" && !actions.contains($0) }
        guard !unknown.isEmpty else { return true }
        problem(
            path, node,
            "unknown action \(unknown.map { "\"\($0.prefix(64))\"" }.joined(separator: ", ")); the actions are \(actions.sorted().joined(separator: ", ")) "
                + "or *, and a policy may declare others under actions: [...]")
        return false
    }

    private func defaultQuarantine() -> [StatementTemplate] {
        PolicyDocument.defaultQuarantineAllowList.enumerated().compactMap { index, text in
            try? Self.capability(text, effect: .allow, source: "quarantine.allow[\(index)]")
        }
    }

    static func capability(_ text: String, effect: PolicyStatement.Effect, source: String) throws(AuthorizationError) -> StatementTemplate {
        guard let colon = text.firstIndex(of: ":") else {
            throw AuthorizationError.invalidStatement("\"\(text.prefix(80))\" must be ACTION:RESOURCE, such as publish:telemetry/${device.id}/#")
        }
        let action = String(text[..<colon])
        let resource = try ResourceTemplate(String(text[text.index(after: colon)...]))
        return try StatementTemplate(effect: effect, actions: [action], resources: [resource], conditions: .none, source: source)
    }

    private mutating func capabilities(_ node: PolicyNode?, _ path: String, effect: PolicyStatement.Effect, zones: Set<String>) -> [StatementTemplate] {
        guard let node, let items = list(node, path) else { return [] }
        var statements: [StatementTemplate] = []
        for (index, item) in items.enumerated() {
            let itemPath = "\(path)[\(index)]"
            guard let text = string(item, itemPath) else { continue }
            do {
                let statement = try Self.capability(text, effect: effect, source: itemPath)
                if knowsActions(of: statement, itemPath, item) { statements.append(statement) }
            } catch {
                problem(itemPath, item, error.reason)
            }
        }
        return statements
    }

    private mutating func fullStatement(_ node: PolicyNode, _ path: String, zones: Set<String>) -> StatementTemplate? {
        guard let fields = map(node, path, known: ["effect", "actions", "resources", "conditions"]) else { return nil }
        guard let effectNode = fields["effect"], let effectText = string(effectNode, path + ".effect") else {
            if fields["effect"] == nil { problem(path, node, "a statement needs effect: allow or deny") }
            return nil
        }
        guard let effect = PolicyStatement.Effect(rawValue: effectText) else {
            problem(path + ".effect", effectNode, "effect must be allow or deny")
            return nil
        }
        let actions = stringsOrOne(fields["actions"], path + ".actions", what: "actions")
        var resources: [ResourceTemplate] = []
        for (index, text) in stringsOrOne(fields["resources"], path + ".resources", what: "resources").enumerated() {
            do {
                resources.append(try ResourceTemplate(text))
            } catch {
                problem("\(path).resources[\(index)]", fields["resources"], error.reason)
            }
        }
        var conditions = PolicyConditions.none
        if let node = fields["conditions"], let members = map(node, path + ".conditions", known: ["sourceAddresses", "timeOfDay", "peerZones"]) {
            if let node = members["sourceAddresses"] {
                for (index, text) in stringsOrOne(node, path + ".conditions.sourceAddresses", what: "sourceAddresses").enumerated() {
                    do {
                        conditions.sourceAddresses.append(try IPAddressRange(text))
                    } catch {
                        problem("\(path).conditions.sourceAddresses[\(index)]", node, error.reason)
                    }
                }
            }
            if let window = members["timeOfDay"], let text = string(window, path + ".conditions.timeOfDay") {
                do {
                    conditions.timeOfDay = try TimeOfDayWindow(text)
                } catch {
                    problem(path + ".conditions.timeOfDay", window, error.reason)
                }
            }
            if let node = members["peerZones"] {
                for zone in stringsOrOne(node, path + ".conditions.peerZones", what: "peerZones") {
                    if zones.contains(zone) {
                        conditions.peerZones.append(zone)
                    } else {
                        problem(path + ".conditions.peerZones", node, "zone \(zone.prefix(64)) is not defined under zones")
                    }
                }
            }
        }
        for action in actions {
            do {
                try PolicyStatement.checkAction(action, allowingWildcard: true)
            } catch {
                problem(path + ".actions", fields["actions"], error.reason)
                return nil
            }
        }
        guard !actions.isEmpty, !resources.isEmpty else { return nil }
        guard let statement = try? StatementTemplate(effect: effect, actions: actions, resources: resources, conditions: conditions, source: path),
            knowsActions(of: statement, path + ".actions", fields["actions"])
        else { return nil }
        return statement
    }

    // MARK: Shapes

    mutating func map(_ node: PolicyNode, _ path: String, known: [String]) -> [String: PolicyNode]? {
        guard case .map(let pairs, _) = node else {
            problem(path, node, "must be a map, not \(node.kind)")
            return nil
        }
        var members: [String: PolicyNode] = [:]
        for (key, value) in pairs {
            guard known.contains(key) else {
                problem(path.isEmpty ? key : "\(path).\(key)", value, "unknown key \"\(key.prefix(64))\"; expected \(known.joined(separator: ", "))")
                continue
            }
            members[key] = value
        }
        return members
    }

    mutating func entries(_ node: PolicyNode, _ path: String) -> [(key: String, value: PolicyNode)]? {
        if case .null = node { return [] }
        guard case .map(let pairs, _) = node else {
            problem(path, node, "must be a map of names, not \(node.kind)")
            return nil
        }
        return pairs
    }

    mutating func list(_ node: PolicyNode, _ path: String) -> [PolicyNode]? {
        if case .null = node { return [] }
        guard case .list(let items, _) = node else {
            problem(path, node, "must be a list, not \(node.kind)")
            return nil
        }
        return items
    }

    mutating func string(_ node: PolicyNode, _ path: String) -> String? {
        guard case .scalar(let text, _) = node else {
            problem(path, node, "must be a string, not \(node.kind)")
            return nil
        }
        return text
    }

    mutating func stringsOrOne(_ node: PolicyNode?, _ path: String, what: String) -> [String] {
        guard let node else {
            problem(path, nil, "a statement needs \(what)")
            return []
        }
        if case .scalar(let text, _) = node { return [text] }
        guard let items = list(node, path) else { return [] }
        var strings: [String] = []
        for (index, item) in items.enumerated() {
            if let text = string(item, "\(path)[\(index)]") { strings.append(text) }
        }
        if strings.isEmpty && items.isEmpty { problem(path, node, "\(what) cannot be empty") }
        return strings
    }
}
