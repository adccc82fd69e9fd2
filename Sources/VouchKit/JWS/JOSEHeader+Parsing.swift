extension JOSEHeader {
    /// Reads a protected header from its JSON bytes; unknown members are skipped, repeated ones refused.
    init(json bytes: [UInt8]) throws {
        var scanner = JSONScanner(bytes)
        var alg: String?
        var typ: String?
        var cty: String?
        var kid: String?
        var crit: [String]?
        func once<T>(_ value: T?, _ name: JSONKey) throws {
            if value != nil { throw JSONScanner.error("duplicate member \"\(name.text)\" in the JOSE header") }
        }
        try scanner.readObject { scanner, key in
            switch key {
            case "alg": try once(alg, key); alg = try scanner.readString()
            case "typ": try once(typ, key); typ = try scanner.readString()
            case "cty": try once(cty, key); cty = try scanner.readString()
            case "kid": try once(kid, key); kid = try scanner.readString()
            case "crit":
                try once(crit, key)
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
