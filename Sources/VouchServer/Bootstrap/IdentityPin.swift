import Foundation
import Logging
import VouchCore
import VouchKit
import VouchStore

/// The public URL is the authority's identity: its did:web, the issuer of every credential, the CRL,
/// OCSP and issuer URLs in every certificate and the status-list URLs in every credential follow it.
/// The first start records it in the database (setting `public_url`, event `authority.url-pinned`);
/// a later start with another public URL or port is refused before the authority loads, since what
/// was issued names the old one. Moving is deliberate: `vouch admin migrate-url`.
///
/// A server started on port 0 with no public URL (tests, trials) has a URL naming the port the
/// kernel chose, which is new at every start: its identity follows the port on such starts only.
public enum IdentityPin {
    static let urlSetting = "public_url"
    static let sourceSetting = "public_url_source"

    /// Where a start's public URL came from.
    enum Source: String {
        /// Given (`--public-url`), or made from a fixed host and port.
        case configured
        /// Made from the port the kernel chose for port 0.
        case kernelPort = "port-0"
    }

    /// What a start does about the pin once the authority has loaded.
    enum Outcome {
        /// The pin names this URL.
        case unchanged
        /// Nothing was pinned (a new authority, or one made before pins): record this URL.
        case record(url: String, source: Source, directory: String)
        /// A kernel-chosen port again: the pin follows it.
        case follow(from: String, to: String)
    }

    /// Checks `url` against `value` and `source` as a pin, and says what to record.
    static func decide(pinned: (url: String, source: Source?)?, url: String, source: Source, directory: String) throws -> Outcome {
        guard let pinned else { return .record(url: url, source: source, directory: directory) }
        if pinned.url == url { return .unchanged }
        if pinned.source == .kernelPort, source == .kernelPort { return .follow(from: pinned.url, to: url) }
        throw ServerStartupError(
            "this authority's public URL is \(pinned.url) (its did:web, certificates and credentials name it), but this start's is \(url). "
                + "Start it with --public-url \(pinned.url)"
                + (pinned.source == .kernelPort ? " (it was first started on port 0, which named the port the kernel chose)" : "")
                + "; or, to move the authority to \(url), stop it and run: vouch admin migrate-url --data-dir \(directory) --to \(url)")
    }

    /// The pin as recorded, if any.
    static func pinned(_ store: Store) async throws -> (url: String, source: Source?)? {
        try await store.read { session in
            guard let url = try await session.counters.setting(urlSetting) else { return nil }
            return (url, try await session.counters.setting(sourceSetting).flatMap(Source.init(rawValue:)))
        }
    }

    /// Checks this start's public URL against the pin, before anything is written.
    static func check(store: Store, configuration: ServerConfiguration) async throws -> Outcome {
        let url = try normalized(configuration.resolvedPublicURL)
        let source: Source = configuration.publicURL == nil && configuration.portChosenByKernel ? .kernelPort : .configured
        return try decide(pinned: try await pinned(store), url: url, source: source, directory: configuration.dataDirectory)
    }

    /// Records what `check` decided, once the authority has loaded.
    static func apply(_ outcome: Outcome, services: VouchServices, logger: Logger) async throws {
        switch outcome {
        case .unchanged:
            return
        case .record(let url, let source, let directory):
            try await services.store.transaction { session in
                // Two nodes starting at once on a database with no pin: the first to record it wins,
                // and the other is refused as a start with another URL would be.
                try await session.counters.setIfAbsent(urlSetting, to: url)
                if let recorded = try await session.counters.setting(urlSetting), recorded != url {
                    _ = try decide(pinned: (recorded, nil), url: url, source: source, directory: directory)
                }
                try await session.counters.set(sourceSetting, to: source.rawValue)
                try await services.events.record(session, kind: .authorityURLPinned, subject: services.did.description, actor: "system", data: [
                    "url": .string(url), "source": .string(source.rawValue),
                ])
            }
            logger.info("pinned the authority's public URL", metadata: ["authority.url": "\(url)", "authority.url.source": "\(source.rawValue)"])
        case .follow(let from, let to):
            try await services.store.transaction { session in
                try await session.counters.set(urlSetting, to: to)
            }
            logger.notice(
                "the public URL follows the port the kernel chose (port 0, no --public-url): what was issued before names the old one",
                metadata: ["authority.url": "\(to)", "authority.url.previous": "\(from)"])
        }
    }

    /// A public URL as the authority uses it: http or https, a host, no user, query or fragment, and
    /// no trailing slash.
    public static func normalized(_ text: String) throws -> String {
        var url = text
        while url.hasSuffix("/") { url.removeLast() }
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = parsed.host, !host.isEmpty
        else {
            throw ServerStartupError("the public URL \(text.prefix(200)) is not an http or https URL with a host, such as https://vouch.example.com")
        }
        guard parsed.user == nil, parsed.password == nil, parsed.query == nil, parsed.fragment == nil else {
            throw ServerStartupError("the public URL \(text.prefix(200)) has a user, query or fragment; give scheme, host, port and path only")
        }
        return url
    }

    /// Moves the authority in `dataDirectory` (on `databaseURL`; nil: SQLite in the data directory)
    /// to the public URL `to`: the pin names it from now on and the event log records the move
    /// (`authority.url-migrated`, from and to). On SQLite the server must be stopped. Returns the URL
    /// it was pinned to before.
    public static func migrate(dataDirectory root: String, databaseURL: String?, to text: String, logger: Logger) async throws -> String {
        let url = try normalized(text)
        return try await OfflineAuthority.withStore(dataDirectory: root, databaseURL: databaseURL, logger: logger, doing: "move the authority") { store in
            let previous = try await pinned(store)
            if let previous, previous.url == url {
                throw ServerStartupError("the authority's public URL is \(url) already")
            }
            let events = EventRecorder(clock: ServerClock())
            try await store.transaction { session in
                try await session.counters.set(urlSetting, to: url)
                try await session.counters.set(sourceSetting, to: Source.configured.rawValue)
                try await events.record(session, kind: .authorityURLMigrated, subject: url, actor: "operator", data: [
                    "from": .string(previous?.url ?? ""), "to": .string(url),
                ])
            }
            return previous?.url ?? ""
        }
    }
}
