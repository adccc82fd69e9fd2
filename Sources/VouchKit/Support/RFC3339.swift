import Foundation

/// RFC 3339 / XML Schema `dateTimeStamp` text, as VC 2.0 uses for `validFrom` and `validUntil`.
package enum RFC3339 {
    /// Formats a date in UTC with second precision: `2026-11-21T16:08:30Z`. Dates outside
    /// 1970 … 9999 are written as the nearest end of that range (RFC 3339 has four-digit years).
    package static func format(_ date: Date) -> String {
        let date = NumericDate(date).date
        return date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted))
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` between 1970 and 9999; `nil` when the
    /// text is anything else.
    package static func parse(_ text: String) -> Date? {
        if case .date(let date) = read(text) { return date }
        return nil
    }

    /// Why `parse` refused `text`, in words a person can act on: either it is not RFC 3339 at all,
    /// or it is a well-formed date outside the 1970 … 9999 range Vouch takes. Quotes at most 64
    /// characters of the text.
    package static func refusal(_ text: String) -> String {
        let quoted = "\"\(text.prefix(64))\""
        switch read(text) {
        case .date: return "\(quoted) is a valid RFC 3339 date-time"
        case .outOfRange: return "\(quoted) is outside 1970-01-01T00:00:00Z … 9999-12-31T23:59:59Z, the range of times Vouch takes"
        case .malformed: return "\(quoted) is not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SSZ or with an offset ±HH:MM)"
        }
    }

    private enum Reading { case date(Date), outOfRange, malformed }

    private static func read(_ text: String) -> Reading {
        guard let reading = readSyntax(text) else { return .malformed }
        return reading
    }

    private static func readSyntax(_ text: String) -> Reading? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20 else { return nil }
        func digits(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<(start + count) {
                let byte = bytes[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard let year = digits(0, 4), bytes[4] == 0x2D, let month = digits(5, 2), bytes[7] == 0x2D,
            let day = digits(8, 2), bytes[10] == 0x54 || bytes[10] == 0x74,
            let hour = digits(11, 2), bytes[13] == 0x3A, let minute = digits(14, 2), bytes[16] == 0x3A,
            let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
            hour <= 23, minute <= 59, second <= 60
        else { return nil }
        var index = 19
        var fraction = 0.0
        if index < bytes.count, bytes[index] == 0x2E {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                fraction += Double(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
            guard index > start else { return nil }
        }
        guard index < bytes.count else { return nil }
        var offsetSeconds = 0
        switch bytes[index] {
        case 0x5A, 0x7A:
            index += 1
        case 0x2B, 0x2D:
            guard bytes.count == index + 6, let offHour = digits(index + 1, 2), bytes[index + 3] == 0x3A,
                let offMinute = digits(index + 4, 2), offHour <= 23, offMinute <= 59
            else { return nil }
            offsetSeconds = (offHour * 3600 + offMinute * 60) * (bytes[index] == 0x2B ? 1 : -1)
            index += 6
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
        // The same range as every other outside time (NumericDate): 1970 … 9999.
        guard let checked = try? NumericDate(Double(seconds) + fraction) else { return .outOfRange }
        return .date(checked.date)
    }

    private static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    private static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
