/// A DID URL (W3C DID Core §3.2): a DID with an optional path, query and fragment, such as the
/// `kid` of a JWS: `did:key:z6Mk...#z6Mk...`.
public struct DIDURL: Sendable, Hashable, CustomStringConvertible {
    /// The DID this URL belongs to.
    public let did: DID
    /// The path, including its leading `/`, or empty.
    public let path: String
    /// The query without `?`, if any.
    public let query: String?
    /// The fragment without `#`, if any.
    public let fragment: String?

    /// Parses a DID URL.
    public init(_ text: String) throws {
        var rest = Substring(text)
        var fragment: String?
        if let hash = rest.firstIndex(of: "#") {
            fragment = String(rest[rest.index(after: hash)...])
            rest = rest[..<hash]
        }
        var query: String?
        if let mark = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: mark)...])
            rest = rest[..<mark]
        }
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[slash...])
            rest = rest[..<slash]
        }
        self.did = try DID(String(rest))
        self.path = path
        self.query = query
        self.fragment = fragment
    }

    /// A DID URL made of a DID and a fragment.
    public init(did: DID, fragment: String) {
        self.did = did
        self.path = ""
        self.query = nil
        self.fragment = fragment
    }

    /// The DID URL text.
    public var description: String {
        did.description + path + (query.map { "?" + $0 } ?? "") + (fragment.map { "#" + $0 } ?? "")
    }
}
