import Foundation

/// A Verifiable Credential (W3C VC Data Model 2.0) as read from the payload of a `vc+jwt`: the
/// members VouchKit checks, plus the whole payload for everything else.
public struct Credential: Sendable {
    /// `@context` URLs (inline contexts are omitted).
    public let contexts: [String]
    /// The credential's `id`, if any.
    public let id: String?
    /// `type` values; always includes `VerifiableCredential` in a valid credential.
    public let types: [String]
    /// The issuer's id (`issuer` or `issuer.id`).
    public let issuer: String
    /// The `id` of each `credentialSubject` (absent ids are skipped).
    public let subjectIDs: [String]
    /// `validFrom` as written.
    public let validFrom: String?
    /// `validUntil` as written.
    public let validUntil: String?
    /// `credentialStatus` entries.
    public let status: [CredentialStatusEntry]
    /// The payload bytes.
    public var payload: Data { Data(payloadBytes) }
    let payloadBytes: [UInt8]
    /// Problems with the data model found while reading (such as `vc`/`vp` claims); reported by the verifier.
    let dataModelProblems: [String]

    /// The whole credential as JSON.
    public var json: JSONValue {
        (try? JSONValue(parsing: payloadBytes)) ?? .null
    }

    /// Reads a credential from JSON bytes.
    public init(payload: Data) throws {
        try self.init(bytes: Array(payload))
    }

    /// Reads a credential from JSON bytes in one pass: the members checked are read, the rest is
    /// validated and skipped, and a repeated member is refused.
    init(bytes: [UInt8]) throws {
        var scanner = JSONScanner(bytes)
        var contexts: [String]?
        var id: String?
        var types: [String]?
        var issuer: String??
        var subjects: [String]?
        var validFrom: String?
        var validUntil: String?
        var status: [CredentialStatusEntry]?
        var iss: String?
        var hasVC = false
        var hasVP = false
        do {
            try scanner.readObject { scanner, key in
                switch key {
                case "@context":
                    try JSONScanner.once(contexts != nil, key, in: "the credential")
                    var values: [String] = []
                    if scanner.peekValue() == UInt8(ascii: "[") {
                        try scanner.readArray { scanner in
                            if scanner.peekValue() == UInt8(ascii: "\"") { values.append(try scanner.readString()) } else { try scanner.skipValue() }
                        }
                    } else {
                        values.append(try scanner.readString())
                    }
                    contexts = values
                case "id": try JSONScanner.once(id != nil, key, in: "the credential"); id = try scanner.readString()
                case "type": try JSONScanner.once(types != nil, key, in: "the credential"); types = try scanner.readStrings()
                case "issuer": try JSONScanner.once(issuer != nil, key, in: "the credential"); issuer = .some(try scanner.readNodeID())
                case "credentialSubject":
                    try JSONScanner.once(subjects != nil, key, in: "the credential")
                    var ids: [String] = []
                    if scanner.peekValue() == UInt8(ascii: "[") {
                        try scanner.readArray { scanner in
                            guard scanner.peekValue() == UInt8(ascii: "{") else { throw JSONScanner.error("credentialSubject entries must be objects") }
                            if let id = try scanner.readNodeID() { ids.append(id) }
                        }
                    } else {
                        guard scanner.peekValue() == UInt8(ascii: "{") else { throw JSONScanner.error("credentialSubject must be an object") }
                        if let id = try scanner.readNodeID() { ids.append(id) }
                    }
                    subjects = ids
                case "validFrom": try JSONScanner.once(validFrom != nil, key, in: "the credential"); validFrom = try scanner.readString()
                case "validUntil": try JSONScanner.once(validUntil != nil, key, in: "the credential"); validUntil = try scanner.readString()
                case "credentialStatus":
                    try JSONScanner.once(status != nil, key, in: "the credential")
                    var entries: [CredentialStatusEntry] = []
                    if scanner.peekValue() == UInt8(ascii: "[") {
                        try scanner.readArray { entries.append(try CredentialStatusEntry(scanning: &$0)) }
                    } else {
                        entries.append(try CredentialStatusEntry(scanning: &scanner))
                    }
                    status = entries
                case "iss": try JSONScanner.once(iss != nil, key, in: "the credential"); iss = try scanner.readString()
                case "vc": try JSONScanner.once(hasVC, key, in: "the credential"); hasVC = true; try scanner.skipValue()
                case "vp": try JSONScanner.once(hasVP, key, in: "the credential"); hasVP = true; try scanner.skipValue()
                default: try scanner.skipValue()
                }
            }
            try scanner.finish()
        } catch let error as VouchKitError {
            throw VouchKitError.malformedInput("the payload is not a VC 2.0 credential: \(error.reason)")
        }
        self.contexts = contexts ?? []
        self.id = id
        self.types = types ?? []
        self.issuer = (issuer ?? nil) ?? ""
        self.subjectIDs = subjects ?? []
        self.validFrom = validFrom
        self.validUntil = validUntil
        self.status = status ?? []
        self.payloadBytes = bytes
        var problems: [String] = []
        if hasVC { problems.append("the payload has a \"vc\" claim, which VC 2.0 with JOSE forbids") }
        if hasVP { problems.append("the payload has a \"vp\" claim, which VC 2.0 with JOSE forbids") }
        if self.contexts.first != VerifiableCredentialContext.v2 {
            problems.append("the first @context must be \(VerifiableCredentialContext.v2)")
        }
        if !self.types.contains("VerifiableCredential") { problems.append("type must include VerifiableCredential") }
        if self.issuer.isEmpty { problems.append("the credential has no issuer") }
        if subjects == nil { problems.append("the credential has no credentialSubject") }
        if let iss, iss != self.issuer { problems.append("JWT \"iss\" (\(iss)) differs from issuer (\(self.issuer))") }
        dataModelProblems = problems
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.typeMismatch(_, let context) = error {
            return "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        }
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        return "\(error)"
    }
}

/// The VC 2.0 base context.
enum VerifiableCredentialContext {
    static let v2 = "https://www.w3.org/ns/credentials/v2"
}
