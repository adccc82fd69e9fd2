import Foundation

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
        guard bytes.count == 11, bytes[5] == 0x2D, let start = minutes(bytes[0..<5]), let end = minutes(bytes[6..<11]), start != end,
            start < 1440
        else {
            throw AuthorizationError.invalidStatement("timeOfDay \"\(text.prefix(32))\" must be HH:MM-HH:MM in UTC, such as 06:00-22:00, with different ends (24:00 only as the end)")
        }
        self.start = start
        self.end = end
    }

    /// Whether `time` falls in the window.
    public func contains(_ time: Date) -> Bool {
        // On the Double, so that no time (however far, or not finite) traps a conversion.
        let secondOfDay = time.timeIntervalSince1970.rounded(.down).truncatingRemainder(dividingBy: 86_400)
        guard secondOfDay.isFinite else { return false }
        let minute = Int((secondOfDay < 0 ? secondOfDay + 86_400 : secondOfDay) / 60)
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
