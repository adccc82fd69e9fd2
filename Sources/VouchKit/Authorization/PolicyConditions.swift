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

/// A daily window in UTC, `HH:MM-HH:MM`; it may wrap midnight (`22:00-06:00`). The start is in the
/// window, the end is not.
public struct TimeOfDayWindow: Sendable, Hashable, CustomStringConvertible {
    /// Minutes after midnight.
    public let start: Int
    /// Minutes after midnight.
    public let end: Int

    /// Parses `HH:MM-HH:MM`.
    public init(_ text: String) throws(AuthorizationError) {
        let bytes = Array(text.utf8)
        func minutes(_ slice: ArraySlice<UInt8>) -> Int? {
            guard slice.count == 5, slice[slice.startIndex + 2] == 0x3A else { return nil }
            let digits = slice.filter { $0 != 0x3A }
            guard digits.count == 4, digits.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            let hours = Int(digits[0] - 0x30) * 10 + Int(digits[1] - 0x30)
            let minutes = Int(digits[2] - 0x30) * 10 + Int(digits[3] - 0x30)
            guard hours <= 24, minutes < 60, hours * 60 + minutes <= 1440 else { return nil }
            return hours * 60 + minutes
        }
        guard bytes.count == 11, bytes[5] == 0x2D, let start = minutes(bytes[0..<5]), let end = minutes(bytes[6..<11]), start != end else {
            throw AuthorizationError.invalidStatement("timeOfDay \"\(text.prefix(32))\" must be HH:MM-HH:MM in UTC, such as 06:00-22:00, with different ends")
        }
        self.start = start
        self.end = end
    }

    /// Whether `time` falls in the window.
    public func contains(_ time: Date) -> Bool {
        let seconds = Int(time.timeIntervalSince1970.rounded(.down))
        let minute = ((seconds % 86_400 + 86_400) % 86_400) / 60
        return start < end ? (start <= minute && minute < end) : (minute >= start || minute < end)
    }

    public var description: String {
        func format(_ minutes: Int) -> String {
            let hours = minutes / 60, rest = minutes % 60
            return (hours < 10 ? "0" : "") + "\(hours):" + (rest < 10 ? "0" : "") + "\(rest)"
        }
        return "\(format(start))-\(format(end))"
    }
}
