import Foundation
import Testing
import VouchKit

@Suite("JSONValue")
struct JSONValueTests {
    static let sample: JSONValue = [
        "z": 1, "a": [true, false, .null, .number(1.5), -3, .number(1e20), .number(0.000001)],
        "Zebra": "upper before lower in byte order", "é": "non-ASCII key",
        "text": .string("quote \" backslash \\ slash / newline \n tab \t cr \r bell \u{07} nul \u{00} unicode é 🙂"),
        "nested": ["k": ["deep": .object([:])], "empty": .array([])],
    ]

    @Test("canonicalJSON parses back to the same value, as JSONEncoder's output does")
    func roundTrip() throws {
        let compact = Self.sample.canonicalJSON
        #expect(try JSONValue(parsing: compact) == Self.sample)
        #expect(try JSONValue(parsing: compact) == JSONValue(parsing: Self.sample.jsonData()))
        // Foundation's own parser reads it too.
        #expect(try JSONSerialization.jsonObject(with: Data(compact)) is [String: Any])
    }

    @Test("RFC 8785 §3.2.2.3 and §3.2.3: numbers as ECMAScript writes them, strings, keys in UTF-16 order")
    func rfc8785Examples() throws {
        let numbers = try JSONValue(parsing: Data("[333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001]".utf8))
        #expect(String(decoding: numbers.canonicalJSON, as: UTF8.self) == "[333333333.3333333,1e+30,4.5,0.002,1e-27]")
        let string = try JSONValue(parsing: Data(#""\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/""#.utf8))
        #expect(String(decoding: string.canonicalJSON, as: UTF8.self) == #""€$\u000f\nA'B\"\\\\\"/""#)
        let sorted = try JSONValue(parsing: Data(#"{"\u20ac": 1, "\r": 2, "\ufb33": 3, "1": 4, "\ud83d\ude00": 5, "\u0080": 6, "\u00f6": 7}"#.utf8))
        #expect(String(decoding: sorted.canonicalJSON, as: UTF8.self) == "{\"\\r\":2,\"1\":4,\"\u{80}\":6,\"ö\":7,\"€\":1,\"😀\":5,\"\u{fb33}\":3}")
        // Appendix B's edges of the number format.
        for (value, text) in [
            (0.0, "0"), (-0.0, "0"), (9_007_199_254_740_992.0, "9007199254740992"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
            (0.000001, "0.000001"), (0.0000001, "1e-7"), (-1.5, "-1.5"), (600, "600"), (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"), (123456789012345680000.0, "123456789012345680000"),
        ] {
            #expect(String(decoding: JSONValue.number(value).canonicalJSON, as: UTF8.self) == text, "\(value)")
        }
    }

    @Test("keys sorted, control characters escaped, slashes and non-ASCII as they are")
    func exactText() {
        let value: JSONValue = ["b": "x/y", "B": 2, "a": .string("\u{01}\"\\\n"), "ü": .number(0.5)]
        #expect(String(decoding: value.canonicalJSON, as: UTF8.self) == #"{"B":2,"a":"\u0001\"\\\n","b":"x/y","ü":0.5}"#)
    }
}
