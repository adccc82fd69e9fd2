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

    @Test("compactJSON parses back to the same value, as JSONEncoder's output does")
    func roundTrip() throws {
        let compact = Self.sample.compactJSON
        #expect(try JSONValue(parsing: compact) == Self.sample)
        #expect(try JSONValue(parsing: compact) == JSONValue(parsing: Self.sample.jsonData()))
        // Foundation's own parser reads it too.
        #expect(try JSONSerialization.jsonObject(with: Data(compact)) is [String: Any])
    }

    @Test("keys in byte order, control characters escaped, slashes and non-ASCII as they are")
    func exactText() {
        let value: JSONValue = ["b": "x/y", "B": 2, "a": .string("\u{01}\"\\\n"), "ü": .number(0.5)]
        #expect(String(decoding: value.compactJSON, as: UTF8.self) == #"{"B":2,"a":"\u0001\"\\\n","b":"x/y","ü":0.5}"#)
    }
}
