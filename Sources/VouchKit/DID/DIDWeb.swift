import Foundation

/// The did:web method (W3C CCG did:web): a DID that names an HTTPS location of its document.
/// `did:web:example.com` ⇄ `https://example.com/.well-known/did.json`;
/// `did:web:example.com%3A8443:devices:x` ⇄ `https://example.com:8443/devices/x/did.json`.
public enum DIDWeb {
    /// The URL of the document of a did:web DID.
    public static func documentURL(for did: DID) throws -> URL {
        guard did.method == "web" else { throw VouchKitError.malformedInput("\(did) is not a did:web DID") }
        let segments = did.methodSpecificID.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard let hostPart = segments.first?.removingPercentEncoding, !hostPart.isEmpty,
            !hostPart.contains("/"), !hostPart.contains("@")
        else {
            throw VouchKitError.malformedInput("\(did) does not name a host")
        }
        let path = segments.dropFirst()
        guard path.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("%2F") && !$0.contains("%2f") }) else {
            throw VouchKitError.malformedInput("\(did) has an empty or unsafe path segment")
        }
        let text = "https://" + hostPart + (path.isEmpty ? "/.well-known" : "/" + path.joined(separator: "/")) + "/did.json"
        guard let url = URL(string: text), url.host != nil else {
            throw VouchKitError.malformedInput("\(did) does not map to a valid URL")
        }
        return url
    }

    /// The did:web DID whose document lives at `url` (an https URL ending in `/did.json`).
    public static func did(forDocumentURL url: URL) throws -> DID {
        guard url.scheme == "https", let host = url.host, !host.isEmpty else {
            throw VouchKitError.malformedInput("a did:web document URL must be https with a host, got \(url)")
        }
        guard url.query == nil, url.fragment == nil else {
            throw VouchKitError.malformedInput("a did:web document URL has no query or fragment")
        }
        var components = url.path.split(separator: "/").map(String.init)
        guard components.last == "did.json" else {
            throw VouchKitError.malformedInput("a did:web document URL ends in /did.json, got \(url)")
        }
        components.removeLast()
        if components == [".well-known"] { components = [] }
        let authority = host + (url.port.map { "%3A\($0)" } ?? "")
        return try DID((["did:web:" + authority] + components).joined(separator: ":"))
    }
}
