/// When a response rule applies: comparisons on the trust score, the signals active on the device,
/// its zone and its group, joined by `and`, `or`, `not` and parentheses.
///
/// ```
/// score < 40 or signal == firmware.unknown
/// signal == rule.* and not zone == lab
/// ```
///
/// `signal == KIND` holds while a signal of that kind still weighs on the score (a final `*`
/// matches any kind with that prefix); `signal != KIND` is its negation.
public indirect enum ResponseCondition: Sendable, Hashable, CustomStringConvertible {
    /// A comparison operator.
    public enum Comparison: String, Sendable, Hashable, CaseIterable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">=", equal = "==", notEqual = "!="

        func holds(_ left: Double, _ right: Double) -> Bool {
            switch self {
            case .less: left < right
            case .lessOrEqual: left <= right
            case .greater: left > right
            case .greaterOrEqual: left >= right
            case .equal: left == right
            case .notEqual: left != right
            }
        }
    }

    case score(Comparison, Double)
    case signal(equal: Bool, pattern: String)
    case zone(equal: Bool, String)
    case group(equal: Bool, String)
    case and(ResponseCondition, ResponseCondition)
    case or(ResponseCondition, ResponseCondition)
    case not(ResponseCondition)

    /// Whether the condition holds for a device with this score, these active signals and this profile.
    public func holds(score: Double, signals: Set<SignalKind>, profile: DeviceProfile) -> Bool {
        switch self {
        case .score(let comparison, let value):
            return comparison.holds(score, value)
        case .signal(let equal, let pattern):
            let present = pattern.hasSuffix("*")
                ? signals.contains { $0.rawValue.hasPrefix(pattern.dropLast()) }
                : signals.contains(SignalKind(rawValue: pattern))
            return present == equal
        case .zone(let equal, let name):
            return (profile.zone == name) == equal
        case .group(let equal, let name):
            return (profile.group == name) == equal
        case .and(let left, let right):
            return left.holds(score: score, signals: signals, profile: profile) && right.holds(score: score, signals: signals, profile: profile)
        case .or(let left, let right):
            return left.holds(score: score, signals: signals, profile: profile) || right.holds(score: score, signals: signals, profile: profile)
        case .not(let inner):
            return !inner.holds(score: score, signals: signals, profile: profile)
        }
    }

    /// Signal patterns the condition names.
    public var signalPatterns: [String] {
        switch self {
        case .signal(_, let pattern): [pattern]
        case .and(let left, let right), .or(let left, let right): left.signalPatterns + right.signalPatterns
        case .not(let inner): inner.signalPatterns
        case .score, .zone, .group: []
        }
    }

    /// Zone names the condition compares with.
    public var zoneNames: [String] {
        switch self {
        case .zone(_, let name): [name]
        case .and(let left, let right), .or(let left, let right): left.zoneNames + right.zoneNames
        case .not(let inner): inner.zoneNames
        case .score, .signal, .group: []
        }
    }

    public var description: String {
        switch self {
        case .score(let comparison, let value):
            "score \(comparison.rawValue) \(Int(exactly: value).map(String.init) ?? String(value))"
        case .signal(let equal, let pattern): "signal \(equal ? "==" : "!=") \(pattern)"
        case .zone(let equal, let name): "zone \(equal ? "==" : "!=") \(name)"
        case .group(let equal, let name): "group \(equal ? "==" : "!=") \(name)"
        case .and(let left, let right): "(\(left) and \(right))"
        case .or(let left, let right): "(\(left) or \(right))"
        case .not(let inner): "not \(inner)"
        }
    }

    /// The longest condition read, in characters.
    public static let maximumLength = 2000

    /// Parses a condition; the error names the column where reading stopped.
    public init(parsing text: String) throws(ResponseConditionError) {
        guard text.count <= Self.maximumLength else {
            throw ResponseConditionError(column: Self.maximumLength + 1, message: "a condition is at most \(Self.maximumLength) characters")
        }
        var parser = ConditionParser(text)
        let condition = try parser.expression()
        if let token = parser.peek() {
            throw ResponseConditionError(column: token.column, message: "unexpected \"\(token.text)\"; expected and, or, or the end")
        }
        self = condition
    }
}

/// A response condition that cannot be read.
public struct ResponseConditionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where reading stopped (1-based, in characters).
    public let column: Int
    public let message: String

    public var description: String { "column \(column): \(message)" }
}

private struct ConditionParser {
    struct Token {
        var text: String
        var column: Int
    }

    private var tokens: [Token] = []
    private var position = 0
    /// Parentheses and `not`s open; past 32, the condition is refused rather than read deeper.
    private var depth = 0
    private let end: Int

    init(_ text: String) {
        let characters = Array(text)
        end = characters.count + 1
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character.isWhitespace {
                index += 1
            } else if character == "(" || character == ")" {
                tokens.append(Token(text: String(character), column: index + 1))
                index += 1
            } else if "<>=!".contains(character) {
                var text = String(character)
                if index + 1 < characters.count, characters[index + 1] == "=" { text.append("=") }
                tokens.append(Token(text: text, column: index + 1))
                index += text.count
            } else {
                let start = index
                while index < characters.count, !characters[index].isWhitespace, !"()<>=!".contains(characters[index]) { index += 1 }
                tokens.append(Token(text: String(characters[start..<index]), column: start + 1))
            }
        }
    }

    func peek() -> Token? { position < tokens.count ? tokens[position] : nil }

    private mutating func next(_ expected: String) throws(ResponseConditionError) -> Token {
        guard let token = peek() else { throw ResponseConditionError(column: end, message: "the condition ends where \(expected) was expected") }
        position += 1
        return token
    }

    mutating func expression() throws(ResponseConditionError) -> ResponseCondition {
        var left = try conjunction()
        while peek()?.text == "or" {
            position += 1
            left = .or(left, try conjunction())
        }
        return left
    }

    private mutating func conjunction() throws(ResponseConditionError) -> ResponseCondition {
        var left = try negation()
        while peek()?.text == "and" {
            position += 1
            left = .and(left, try negation())
        }
        return left
    }

    private mutating func negation() throws(ResponseConditionError) -> ResponseCondition {
        let opens = peek().map { $0.text == "not" || $0.text == "(" } ?? false
        if opens, let token = peek() {
            depth += 1
            guard depth <= 32 else { throw ResponseConditionError(column: token.column, message: "a condition nests at most 32 deep") }
        }
        defer { if opens { depth -= 1 } }
        if peek()?.text == "not" {
            position += 1
            return .not(try negation())
        }
        if peek()?.text == "(" {
            position += 1
            let inner = try expression()
            let close = try next("\")\"")
            guard close.text == ")" else { throw ResponseConditionError(column: close.column, message: "expected \")\", not \"\(close.text)\"") }
            return inner
        }
        return try comparison()
    }

    private mutating func comparison() throws(ResponseConditionError) -> ResponseCondition {
        let subject = try next("score, signal, zone or group")
        let symbol = try next("a comparison (<, <=, >, >=, ==, !=)")
        guard let comparison = ResponseCondition.Comparison(rawValue: symbol.text) else {
            throw ResponseConditionError(column: symbol.column, message: "expected a comparison (<, <=, >, >=, ==, !=), not \"\(symbol.text)\"")
        }
        let value = try next("a value")
        guard value.text != "(" && value.text != ")" else {
            throw ResponseConditionError(column: value.column, message: "expected a value, not \"\(value.text)\"")
        }
        switch subject.text {
        case "score":
            guard let number = Double(value.text), (0...100).contains(number) else {
                throw ResponseConditionError(column: value.column, message: "a score is compared with a number from 0 to 100, not \"\(value.text.prefix(40))\"")
            }
            return .score(comparison, number)
        case "signal", "zone", "group":
            guard comparison == .equal || comparison == .notEqual else {
                throw ResponseConditionError(column: symbol.column, message: "\(subject.text) is compared with == or !=")
            }
            let equal = comparison == .equal
            if subject.text == "signal" {
                guard !value.text.dropLast().contains("*") else {
                    throw ResponseConditionError(column: value.column, message: "a signal pattern may only end in *")
                }
                return .signal(equal: equal, pattern: value.text)
            }
            return subject.text == "zone" ? .zone(equal: equal, value.text) : .group(equal: equal, value.text)
        default:
            throw ResponseConditionError(column: subject.column, message: "unknown subject \"\(subject.text.prefix(40))\"; expected score, signal, zone or group")
        }
    }
}
