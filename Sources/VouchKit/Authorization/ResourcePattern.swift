/// A pattern over `/`-separated resource names, as in MQTT topic filters and AWS IoT policies.
///
/// - A segment `+` or `*` matches exactly one segment.
/// - `*` inside a segment (`fw-*.bin`) matches any run of characters other than `/`.
/// - `#` as the last segment matches the rest: zero or more segments (`telemetry/#` matches
///   `telemetry` and `telemetry/a/b`).
/// - Anything else matches itself, byte for byte.
///
/// A requested resource may itself be an MQTT topic filter (a subscription): its `+` and `#`
/// segments are wildcards, and the pattern matches it only if it covers every topic the filter
/// could name. `commands/+` is not matched by `commands/dev-1`.
public struct ResourcePattern: Sendable, Hashable, CustomStringConvertible {
    enum Segment: Sendable, Hashable {
        /// Matches exactly these bytes.
        case literal([UInt8])
        /// Matches one segment whose bytes start with the first part, end with the last and hold
        /// the others in order (the parts around each `*`).
        case glob([[UInt8]])
        /// Matches any one segment.
        case any
    }

    let segments: [Segment]
    /// Whether the pattern ends in `#`.
    let matchesRest: Bool
    /// The pattern as written.
    public let description: String

    /// The longest pattern or resource name taken, in bytes.
    public static let maximumLength = 1024

    /// Parses a pattern; throws with a sentence naming what is wrong.
    public init(_ text: String) throws(AuthorizationError) {
        try Self.checkCharacters(text, what: "resource pattern")
        if text.utf8.contains(0x24) {  // "$"
            throw AuthorizationError.invalidPattern("\"\(text.prefix(80))\" holds \"$\": variables such as ${device.id} are filled in before a pattern is used")
        }
        let parts = text.utf8.split(separator: 0x2F, omittingEmptySubsequences: false)
        var segments: [Segment] = []
        var rest = false
        for (index, part) in parts.enumerated() {
            let bytes = Array(part)
            if bytes.contains(0x23) {  // "#"
                guard bytes == [0x23], index == parts.count - 1 else {
                    throw AuthorizationError.invalidPattern("\"\(text.prefix(80))\": \"#\" must be a whole segment, and the last one")
                }
                rest = true
            } else if bytes.contains(0x2B) {  // "+"
                guard bytes == [0x2B] else {
                    throw AuthorizationError.invalidPattern("\"\(text.prefix(80))\": \"+\" must be a whole segment")
                }
                segments.append(.any)
            } else if bytes == [0x2A] {
                segments.append(.any)
            } else if bytes.contains(0x2A) {
                segments.append(.glob(bytes.split(separator: 0x2A, omittingEmptySubsequences: false).map(Array.init)))
            } else {
                segments.append(.literal(bytes))
            }
        }
        self.segments = segments
        self.matchesRest = rest
        self.description = text
    }

    /// Whether `resource` (a name, or an MQTT topic filter) falls within the pattern.
    public func matches(_ resource: String) -> Bool {
        var resource = resource
        return resource.withUTF8 { compare(UnsafeRawBufferPointer($0), overlapping: false) }
    }

    /// Whether some resource named by `filter` (a name, or an MQTT topic filter) falls within the
    /// pattern: what a deny needs, since a subscription to `commands/#` would also receive what
    /// `commands/admin` denies.
    public func overlaps(_ filter: String) -> Bool {
        var filter = filter
        return filter.withUTF8 { compare(UnsafeRawBufferPointer($0), overlapping: true) }
    }

    /// Walks a name or filter against the pattern, segment by segment. Without `overlapping`,
    /// every name the filter stands for must match (a filter `+` or `#` is covered only by the
    /// pattern's own wildcards); with it, one name must.
    private func compare(_ bytes: UnsafeRawBufferPointer, overlapping: Bool) -> Bool {
        var start = 0
        var index = 0
        let count = bytes.count
        while true {
            var end = start
            while end < count && bytes[end] != 0x2F { end += 1 }
            let segment = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            let isLast = end == count
            let isPlus = segment.count == 1 && segment[0] == 0x2B
            let isHash = segment.count == 1 && segment[0] == 0x23 && isLast
            // A filter `#` names any continuation, so one of them meets whatever the pattern asks.
            if isHash && overlapping { return true }
            // The name goes on past the pattern's segments: only `#` covers the rest.
            if index == segments.count { return matchesRest }
            // A filter `#` here reaches beyond a fixed segment.
            if isHash { return false }
            switch segments[index] {
            case .any:
                break
            case .literal(let literal):
                if isPlus ? !overlapping : !segment.elementsEqual(literal) { return false }
            case .glob(let parts):
                if isPlus ? !overlapping : !Self.glob(parts, segment) { return false }
            }
            index += 1
            // The name ended; the pattern must end too, or end in `#` (which matches nothing more).
            if isLast { return index == segments.count }
            start = end + 1
        }
    }

    private static func glob(_ parts: [[UInt8]], _ segment: UnsafeRawBufferPointer) -> Bool {
        guard let first = parts.first, let last = parts.last, parts.count >= 2 else { return false }
        guard segment.count >= first.count + last.count,
            segment.prefix(first.count).elementsEqual(first), segment.suffix(last.count).elementsEqual(last)
        else { return false }
        var position = first.count
        let limit = segment.count - last.count
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            var found = false
            while position + part.count <= limit {
                if segment[position..<(position + part.count)].elementsEqual(part) {
                    position += part.count
                    found = true
                    break
                }
                position += 1
            }
            if !found { return false }
        }
        return true
    }

    /// Refuses what no request names: `.` and `..` segments (which a path-normalising enforcement
    /// point would resolve elsewhere), and MQTT wildcards that are not whole segments or a `#` that
    /// is not last.
    static func checkResource(_ text: String) throws(AuthorizationError) {
        try checkCharacters(text, what: "resource")
        let segments = text.utf8.split(separator: 0x2F, omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            if segment.elementsEqual([0x2E]) || segment.elementsEqual([0x2E, 0x2E]) {
                throw AuthorizationError.invalidRequest("the resource \"\(text.prefix(80))\" has a \".\" or \"..\" segment")
            }
            let wild = segment.contains(0x23) || segment.contains(0x2B)
            if wild && (segment.count != 1 || (segment.first == 0x23 && index != segments.count - 1)) {
                throw AuthorizationError.invalidRequest(
                    "the resource \"\(text.prefix(80))\": \"+\" and \"#\" must be whole segments, and \"#\" the last one")
            }
        }
    }

    /// Refuses empty, oversized and control-character names.
    static func checkCharacters(_ text: String, what: String) throws(AuthorizationError) {
        guard !text.isEmpty else { throw AuthorizationError.invalidPattern("a \(what) cannot be empty") }
        guard text.utf8.count <= maximumLength else {
            throw AuthorizationError.invalidPattern("a \(what) is at most \(maximumLength) bytes; \"\(text.prefix(40))…\" is \(text.utf8.count)")
        }
        if text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) {
            throw AuthorizationError.invalidPattern("the \(what) \"\(text.prefix(80))\" holds a control character")
        }
    }
}
