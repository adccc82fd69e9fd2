import HTTPTypes
import VouchKit

/// The proxies whose `X-Forwarded-For` the server believes (`vouch serve --trusted-proxy`), on the
/// main listener only. Behind nginx or HAProxy every connection comes from the proxy; the client's
/// address is what the proxy appended to the header. Only a peer in these ranges is believed, and
/// the header is read from the right, past every address in them: the first one outside is the
/// client, and what that client wrote further left is never read. (An address in the ranges is
/// trusted as a proxy: a client inside them could name any address, so keep them to the proxies.)
/// With no ranges nothing is believed and the peer is the source, as it is for any peer outside them.
struct TrustedProxies: Sendable {
    let ranges: [IPAddressRange]

    /// The most entries read from the right of the header: more proxies than this in a row are not a
    /// deployment, and the walk stays bounded whatever a request carries.
    static let maximumHops = 16

    static let header = HTTPField.Name("X-Forwarded-For")!

    func trusts(_ address: IPAddress) -> Bool {
        ranges.contains { $0.contains(address) }
    }

    /// The client's address for a request from `peer` with `fields`; nil when the peer is not a trusted
    /// proxy or sent no usable header (the peer is then the source).
    func client(peer: IPAddress?, fields: HTTPFields) -> IPAddress? {
        guard !ranges.isEmpty, let peer, trusts(peer) else { return nil }
        let values = fields[values: Self.header]
        guard !values.isEmpty else { return nil }
        var hops: [Substring] = []
        for value in values.reversed() {
            for entry in value.split(separator: ",").reversed() {
                hops.append(entry)
                if hops.count == Self.maximumHops { break }
            }
            if hops.count == Self.maximumHops { break }
        }
        var nearest: IPAddress?
        for hop in hops {
            // An entry that is not an address ("unknown", a name, garbage): the nearest address known stands.
            guard let address = Self.address(hop) else { return nearest }
            if !trusts(address) { return address }
            nearest = address
        }
        return nearest
    }

    /// An `X-Forwarded-For` entry's address: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
    static func address(_ entry: Substring) -> IPAddress? {
        var text = entry.trimmingSpaces
        if text.first == "[" {
            guard let close = text.firstIndex(of: "]") else { return nil }
            text = text[text.index(after: text.startIndex)..<close]
        } else if let colon = text.firstIndex(of: ":"), text.lastIndex(of: ":") == colon {
            text = text[..<colon]
        }
        guard text.utf8.count <= 45 else { return nil }
        return IPAddress(String(text))
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text.removeFirst() }
        while let last = text.last, last == " " || last == "\t" { text.removeLast() }
        return text
    }
}
