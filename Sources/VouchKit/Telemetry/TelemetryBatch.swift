/// The body of `POST /v1/telemetry`: `{"envelopes": ["<vouch-telemetry+jwt>", …]}`, read in one
/// pass with `JSONScanner` (the server reads every batch with this, and so does the fuzzer).
package enum TelemetryBatch {
    /// The most envelopes one batch holds.
    package static let limit = 1000

    /// The envelopes of a batch body, in order; nil when the body has no `envelopes`. Other keys
    /// are skipped. Throws `VouchKitError.malformedInput` when the body is not one JSON object,
    /// repeats a key, holds more than `limit` envelopes or anything but strings in the list.
    package static func envelopes(_ bytes: [UInt8]) throws -> [String]? {
        var scanner = JSONScanner(bytes)
        var envelopes: [String]?
        try scanner.readObject { scanner, key in
            switch key {
            case "envelopes":
                try JSONScanner.once(envelopes != nil, key, in: "the body")
                var list: [String] = []
                try scanner.readArray { scanner in
                    guard list.count < limit else { throw VouchKitError.malformedInput("a batch holds at most \(limit) envelopes") }
                    list.append(try scanner.readString())
                }
                envelopes = list
            default:
                try scanner.skipValue()
            }
        }
        try scanner.finish()
        return envelopes
    }
}
