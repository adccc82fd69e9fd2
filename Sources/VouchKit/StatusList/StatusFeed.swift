import Foundation
import Synchronization

/// One frame of an authority's revocation stream (`GET /v1/revocations/stream`): what one
/// revocation generation changed, each certificate and status bit as it stands now.
public struct RevocationFrame: Sendable, Codable, Hashable {
    public struct Certificate: Sendable, Codable, Hashable {
        public var serial: String
        /// revoked, hold or good.
        public var state: String
        public var reason: String?
        public var revokedAt: Int?
        public var device: String
        public var did: String

        public init(serial: String, state: String, reason: String?, revokedAt: Int?, device: String, did: String) {
            self.serial = serial
            self.state = state
            self.reason = reason
            self.revokedAt = revokedAt
            self.device = device
            self.did = did
        }
    }

    public struct StatusBit: Sendable, Codable, Hashable {
        public var purpose: String
        public var statusListCredential: String
        public var statusListIndex: Int
        public var set: Bool
        public var device: String?
        public var did: String?

        public init(purpose: String, statusListCredential: String, statusListIndex: Int, set: Bool, device: String?, did: String?) {
            self.purpose = purpose
            self.statusListCredential = statusListCredential
            self.statusListIndex = statusListIndex
            self.set = set
            self.device = device
            self.did = did
        }
    }

    public var generation: Int
    public var certificates: [Certificate]
    public var statusBits: [StatusBit]

    public init(generation: Int, certificates: [Certificate], statusBits: [StatusBit]) {
        self.generation = generation
        self.certificates = certificates
        self.statusBits = statusBits
    }
}

/// What a revocation stream says: a frame, or that it is current with a generation (a heartbeat).
public enum StatusFeedSignal: Sendable, Hashable {
    case frame(RevocationFrame)
    case current(generation: Int)
}

/// Where a `StatusFeed` gets what it knows (VouchAPI's `VouchStatusFeedSource` reads an authority
/// over HTTP).
public protocol StatusFeedSource: Sendable {
    /// The revocation stream after `generation`; it ends or throws when the connection is lost.
    func revocations(after generation: Int) -> AsyncThrowingStream<StatusFeedSignal, any Error>
    /// The status list credential (a VC-JWT) published at `url`.
    func statusListCredential(_ url: String) async throws -> String
    /// The serials (lower-case hex) the authority's CRLs list as revoked or held, or nil when this
    /// source does not read CRLs.
    func revokedSerials() async throws -> Set<String>?
}

/// Keeps a gateway's status lists and revocation set current from an authority's revocation
/// stream, and says how fresh that knowledge is.
///
/// `run()` fetches and verifies the status list credentials (and the CRL, when the source reads
/// it), then follows the revocation stream from the start, so that every revocation, hold and
/// release since is applied; each frame and each heartbeat marks the knowledge current. When the
/// stream is down it polls the lists and the CRL every `pollInterval` while it reconnects. A
/// verifier asks `knowledge()` and checks credentials with `statusPolicy(maximumAge:)`: knowledge
/// older than `maximumAge` (the stream gone and polling failing) fails the status check rather
/// than pass on old news.
public final class StatusFeed: Sendable {
    public struct Configuration: Sendable {
        /// The status lists to keep (a frame naming another list adds it at the next poll).
        public var statusListURLs: [String]
        /// Verifies the status list credentials (the authority's trust bundle).
        public var trust: TrustBundle?
        public var trustedIssuers: Set<String>?
        /// How often the lists and CRL are fetched again while the stream is down.
        public var pollInterval: Duration
        /// The wait before reconnecting to the stream.
        public var reconnectDelay: Duration

        public init(
            statusListURLs: [String], trust: TrustBundle? = nil, trustedIssuers: Set<String>? = nil, pollInterval: Duration = .seconds(60),
            reconnectDelay: Duration = .seconds(2)
        ) {
            self.statusListURLs = statusListURLs
            self.trust = trust
            self.trustedIssuers = trustedIssuers
            self.pollInterval = pollInterval
            self.reconnectDelay = reconnectDelay
        }
    }

    /// What the feed knows, as of when.
    public struct Knowledge: Sendable {
        public var lists: [StatusList]
        /// Serials revoked or held, with `revoked` or `hold`.
        public var certificates: [String: String]
        /// The revocation generation the stream brought it to (0 before any).
        public var generation: Int
        /// When it was last known current: a frame or heartbeat of the stream, or a poll.
        public var asOf: Date?
        /// Whether the stream is connected.
        public var streaming: Bool

        /// Seconds since it was last known current; nil if it never was.
        public func age(now: Date = Date()) -> TimeInterval? {
            asOf.map { now.timeIntervalSince($0) }
        }

        /// revoked, hold or good, as far as the feed knows.
        public func state(ofSerial serial: String) -> String {
            certificates[serial.lowercased()] ?? "good"
        }

        /// The status check a credential verifier runs with this knowledge: the lists, and a
        /// failure when the knowledge is older than `maximumAge` seconds.
        public func statusPolicy(maximumAge: TimeInterval, now: Date = Date()) -> StatusPolicy {
            StatusPolicy(lists: lists, now: now, knownAsOf: asOf ?? .distantPast, maximumAge: maximumAge)
        }
    }

    private struct State {
        var lists: [String: StatusList] = [:]
        var certificates: [String: String] = [:]
        var generation = 0
        var asOf: Date?
        var streaming = false
        var wanted: Set<String>
    }

    private let source: any StatusFeedSource
    private let configuration: Configuration
    private let clock: @Sendable () -> Date
    private let state: Mutex<State>

    public init(source: any StatusFeedSource, configuration: Configuration, clock: @escaping @Sendable () -> Date = { Date() }) {
        self.source = source
        self.configuration = configuration
        self.clock = clock
        state = Mutex(State(wanted: Set(configuration.statusListURLs)))
    }

    public func knowledge() -> Knowledge {
        state.withLock { state in
            Knowledge(
                lists: state.lists.keys.sorted().compactMap { state.lists[$0] }, certificates: state.certificates, generation: state.generation,
                asOf: state.asOf, streaming: state.streaming)
        }
    }

    /// Fetches and verifies every wanted status list, and the CRL's serials; marks the knowledge
    /// current when all of it came.
    public func poll() async throws {
        let urls = state.withLock { $0.wanted.sorted() }
        var fetched: [String: StatusList] = [:]
        for url in urls {
            let token = try await source.statusListCredential(url)
            let list = try await StatusListCredential.verify(token, trust: configuration.trust, trustedIssuers: configuration.trustedIssuers, now: clock())
            guard list.url == nil || list.url == url else { throw VouchKitError.malformedInput("the status list fetched from \(url) names itself \(list.url ?? "")") }
            fetched[url] = StatusList(url: url, purpose: list.purpose, list: list.list, validUntil: list.validUntil)
        }
        let serials = try await source.revokedSerials()
        let now = clock()
        state.withLock { state in
            for (url, list) in fetched { state.lists[url] = list }
            if let serials {
                // The CRL does not tell a hold from a revocation: what the stream said is kept.
                var certificates: [String: String] = [:]
                for serial in serials { certificates[serial] = state.certificates[serial] ?? "revoked" }
                state.certificates = certificates
            }
            state.asOf = now
        }
    }

    /// Applies a frame: each certificate's and each known list's bit as it now stands.
    public func apply(_ frame: RevocationFrame) {
        let now = clock()
        state.withLock { state in
            for certificate in frame.certificates {
                let serial = certificate.serial.lowercased()
                state.certificates[serial] = certificate.state == "good" ? nil : certificate.state
            }
            for bit in frame.statusBits {
                guard var list = state.lists[bit.statusListCredential] else {
                    // A list it does not hold yet: fetched at the next poll.
                    state.wanted.insert(bit.statusListCredential)
                    continue
                }
                var bits = list.list
                if (try? (bit.set ? bits.set(bit.statusListIndex) : bits.clear(bit.statusListIndex))) != nil {
                    list = StatusList(url: list.url, purpose: list.purpose, list: bits, validUntil: list.validUntil)
                    state.lists[bit.statusListCredential] = list
                }
            }
            state.generation = max(state.generation, frame.generation)
            state.asOf = now
        }
    }

    /// Follows the authority until cancelled: polls first, then the stream; while the stream is
    /// down, polls every `pollInterval` and reconnects every `reconnectDelay`.
    public func run() async {
        var lastPoll: ContinuousClock.Instant?
        while !Task.isCancelled {
            if lastPoll.map({ ContinuousClock.now - $0 >= configuration.pollInterval }) ?? true {
                if (try? await poll()) != nil { lastPoll = .now }
            }
            let after = state.withLock { $0.generation }
            do {
                for try await signal in source.revocations(after: after) {
                    state.withLock { $0.streaming = true }
                    switch signal {
                    case .frame(let frame):
                        apply(frame)
                    case .current(let generation):
                        let now = clock()
                        state.withLock { state in
                            // Frames come in order on the connection, before the heartbeat: everything
                            // up to its generation has been applied (a generation may change nothing).
                            state.generation = max(state.generation, generation)
                            state.asOf = now
                        }
                    }
                    // A list named by a frame and not held yet is fetched at once.
                    if state.withLock({ !$0.wanted.isSubset(of: Set($0.lists.keys)) }) {
                        if (try? await poll()) != nil { lastPoll = .now }
                    }
                }
            } catch {
                // Lost: polled and reconnected below.
            }
            state.withLock { $0.streaming = false }
            try? await Task.sleep(for: configuration.reconnectDelay)
        }
    }
}
