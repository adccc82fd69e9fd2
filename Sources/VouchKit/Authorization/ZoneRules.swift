/// The zones of a policy version and the flows between them: what a decision about a peer needs
/// beyond the subject's own statements. The server publishes them in the trust bundle, so that an
/// offline verifier applies the same micro-segmentation.
public struct ZoneRules: Sendable, Hashable {
    /// A rule letting devices of one zone reach devices of another, for some actions and resources.
    public struct Flow: Sendable, Hashable {
        /// The subject's zone, or `*`.
        public let from: String
        /// The peer's zone, or `*`.
        public let to: String
        /// Allow statements.
        public let statements: [PolicyStatement]

        /// Creates a flow.
        public init(from: String, to: String, statements: [PolicyStatement]) {
            self.from = from
            self.to = to
            self.statements = statements
        }
    }

    /// The zone every device is in unless placed elsewhere.
    public static let defaultZone = "default"
    /// The built-in zone of quarantined devices: it reaches nothing and nothing reaches it.
    public static let quarantineZone = "quarantine"

    /// The policy version these come from (0: no policy uploaded).
    public let version: Int
    /// The zones defined, `default` and `quarantine` included.
    public let zones: Set<String>
    /// The flows between zones.
    public let flows: [Flow]

    /// Creates zone rules; `default` and `quarantine` are always among the zones.
    public init(version: Int, zones: Set<String>, flows: [Flow]) {
        self.version = version
        self.zones = zones.union([Self.defaultZone, Self.quarantineZone])
        self.flows = flows
    }

    /// The JSON form: `{"version", "zones": [...], "flows": [{"from", "to", "statements": [...]}]}`.
    public var json: JSONValue {
        .object([
            "version": .number(Double(version)),
            "zones": .array(zones.sorted().map(JSONValue.string)),
            "flows": .array(flows.map { flow in
                .object([
                    "from": .string(flow.from), "to": .string(flow.to), "statements": .array(flow.statements.map(\.json)),
                ])
            }),
        ])
    }

    /// Reads zone rules from their JSON form.
    public init(json: JSONValue) throws(AuthorizationError) {
        guard let version = json["version"]?.numberValue, version >= 0, version == version.rounded(), version < 1e15,
            case .array(let zoneValues)? = json["zones"], case .array(let flowValues)? = json["flows"]
        else {
            throw AuthorizationError.invalidStatement("zone rules need a version, a list of zones and a list of flows")
        }
        var zones: Set<String> = []
        for value in zoneValues {
            guard let zone = value.stringValue else { throw AuthorizationError.invalidStatement("zones must be strings") }
            zones.insert(zone)
        }
        var flows: [Flow] = []
        for value in flowValues {
            guard let from = value["from"]?.stringValue, let to = value["to"]?.stringValue, case .array(let statementValues)? = value["statements"] else {
                throw AuthorizationError.invalidStatement("a flow needs from, to and statements")
            }
            var statements: [PolicyStatement] = []
            for statementValue in statementValues {
                let statement = try PolicyStatement(json: statementValue)
                guard statement.effect == .allow else { throw AuthorizationError.invalidStatement("flow statements allow; they cannot deny") }
                statements.append(statement)
            }
            flows.append(Flow(from: from, to: to, statements: statements))
        }
        self.init(version: Int(version), zones: zones, flows: flows)
    }
}
