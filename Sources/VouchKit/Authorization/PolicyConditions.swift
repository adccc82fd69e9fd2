import Foundation

/// When a statement applies, beyond its actions and resources. Every condition given must hold.
///
/// A condition that needs something the request's context lacks (no source address, no peer) does
/// not hold for an allow, and does apply a deny: missing context never widens access.
public struct PolicyConditions: Sendable, Hashable {
    /// The request must come from one of these ranges.
    public var sourceAddresses: [IPAddressRange]
    /// The request must fall in this daily window, UTC.
    public var timeOfDay: TimeOfDayWindow?
    /// The peer must be in one of these zones.
    public var peerZones: [String]

    /// No conditions.
    public static let none = PolicyConditions()

    /// Creates conditions.
    public init(sourceAddresses: [IPAddressRange] = [], timeOfDay: TimeOfDayWindow? = nil, peerZones: [String] = []) {
        self.sourceAddresses = sourceAddresses
        self.timeOfDay = timeOfDay
        self.peerZones = peerZones
    }

    /// Whether there are none.
    public var isEmpty: Bool { sourceAddresses.isEmpty && timeOfDay == nil && peerZones.isEmpty }

    /// What the conditions say of a request.
    enum Outcome {
        case holds
        case fails(String)
        case unknown(String)
    }

    func evaluate(_ context: AuthorizationContext) -> Outcome {
        if !sourceAddresses.isEmpty {
            guard let address = context.sourceAddress else { return .unknown("the request names no source address") }
            guard sourceAddresses.contains(where: { $0.contains(address) }) else {
                return .fails("source address \(address) is outside \(sourceAddresses.map(\.description).joined(separator: ", "))")
            }
        }
        if let timeOfDay, !timeOfDay.contains(context.time) {
            return .fails("\(RFC3339.format(context.time)) is outside \(timeOfDay) UTC")
        }
        if !peerZones.isEmpty {
            guard let zone = context.peerZone else { return .unknown("the request names no peer") }
            guard peerZones.contains(zone) else { return .fails("peer zone \(zone) is not one of \(peerZones.joined(separator: ", "))") }
        }
        return .holds
    }

    /// The conditions as JSON: `{"sourceAddresses": […], "timeOfDay": "06:00-22:00", "peerZones": […]}`.
    public var json: JSONValue {
        var members: [String: JSONValue] = [:]
        if !sourceAddresses.isEmpty { members["sourceAddresses"] = .array(sourceAddresses.map { .string($0.description) }) }
        if let timeOfDay { members["timeOfDay"] = .string(timeOfDay.description) }
        if !peerZones.isEmpty { members["peerZones"] = .array(peerZones.map(JSONValue.string)) }
        return .object(members)
    }

    /// Reads conditions from their JSON form.
    public init(json: JSONValue) throws(AuthorizationError) {
        guard let members = json.objectValue else { throw AuthorizationError.invalidStatement("conditions must be an object") }
        self.init()
        for (key, value) in members {
            switch key {
            case "sourceAddresses":
                sourceAddresses = try Self.strings(value, key).map { text throws(AuthorizationError) in try IPAddressRange(text) }
            case "timeOfDay":
                guard let text = value.stringValue else { throw AuthorizationError.invalidStatement("timeOfDay must be a string such as \"06:00-22:00\"") }
                timeOfDay = try TimeOfDayWindow(text)
            case "peerZones":
                peerZones = try Self.strings(value, key)
            default:
                throw AuthorizationError.invalidStatement("unknown condition \"\(key.prefix(64))\"; conditions are sourceAddresses, timeOfDay and peerZones")
            }
        }
    }

    private static func strings(_ value: JSONValue, _ key: String) throws(AuthorizationError) -> [String] {
        guard case .array(let items) = value else { throw AuthorizationError.invalidStatement("\(key) must be a list of strings") }
        var strings: [String] = []
        for item in items {
            guard let text = item.stringValue else { throw AuthorizationError.invalidStatement("\(key) must be a list of strings") }
            strings.append(text)
        }
        return strings
    }
}

