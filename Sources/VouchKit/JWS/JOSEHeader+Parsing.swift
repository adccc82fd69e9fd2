extension JOSEHeader {
    /// Reads a protected header from its JSON bytes; unknown members are skipped, repeated ones refused.
    init(json bytes: [UInt8]) throws {
        var scanner = JSONScanner(bytes)
        var alg: String?
        var typ: String?
        var cty: String?
        var kid: String?
        var crit: [String]?
        var jwk: JWK?
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
            case "jwk": try JSONScanner.once(jwk != nil, key, in: "the JOSE header"); jwk = try Self.readJWK(&scanner)
            default: try scanner.skipValue()
            }
        }
        try scanner.finish()
        guard let alg else { throw VouchKitError.malformedInput("the JWS header has no \"alg\"") }
        self.init(alg: alg, typ: typ, cty: cty, kid: kid, crit: crit, jwk: jwk)
    }

    /// A public JWK in a header: `kty`, `crv`, `x`, `y` are read; private members are refused.
    private static func readJWK(_ scanner: inout JSONScanner) throws -> JWK {
        var members: [String: String] = [:]
        try scanner.readObject { scanner, key in
            switch key {
            case "kty", "crv", "x", "y", "kid", "alg", "use":
                let name = key.text
                try JSONScanner.once(members[name] != nil, key, in: "the header's jwk")
                members[name] = try scanner.readString()
            case "d", "p", "q", "dp", "dq", "qi", "k":
                throw VouchKitError.malformedInput("the header's jwk carries private key material")
            default: try scanner.skipValue()
            }
        }
        guard let kty = members["kty"] else { throw VouchKitError.malformedInput("the header's jwk has no \"kty\"") }
        return JWK(kty: kty, crv: members["crv"], x: members["x"], y: members["y"], kid: members["kid"], alg: members["alg"], use: members["use"])
    }
}
