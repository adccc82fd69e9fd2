extension JOSEHeader {
    /// Reads a protected header from its JSON bytes; unknown members are skipped, repeated ones refused.
    init(json bytes: [UInt8]) throws {
        var scanner = JSONScanner(bytes)
        var alg: String?
        var typ: String?
        var cty: String?
        var kid: String?
        var crit: [String]?
        try scanner.readObject { scanner, key in
            switch key {
            case "alg": try JSONScanner.once(alg != nil, key, in: "the JOSE header"); alg = try scanner.readString()
            case "typ": try JSONScanner.once(typ != nil, key, in: "the JOSE header"); typ = try scanner.readString()
            case "cty": try JSONScanner.once(cty != nil, key, in: "the JOSE header"); cty = try scanner.readString()
            case "kid": try JSONScanner.once(kid != nil, key, in: "the JOSE header"); kid = try scanner.readString()
            case "crit":
                try JSONScanner.once(crit != nil, key, in: "the JOSE header")
                var values: [String] = []
                try scanner.readArray { values.append(try $0.readString()) }
                crit = values
            default: try scanner.skipValue()
            }
        }
        try scanner.finish()
        guard let alg else { throw VouchKitError.malformedInput("the JWS header has no \"alg\"") }
        self.init(alg: alg, typ: typ, cty: cty, kid: kid, crit: crit)
    }
}
