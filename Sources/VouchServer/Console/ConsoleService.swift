import Foundation
import Synchronization
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// What the console shows, gathered from the feature services the API uses (lists, details,
/// lifecycle actions, groups, keys, monitoring, the log): the console decides nothing itself.
final class ConsoleService: Sendable {
    let store: Store
    let lifecycle: LifecycleService
    let groups: GroupService
    let apiKeys: APIKeyService
    let monitoring: MonitoringService
    let policy: PolicyService
    let webhooks: WebhookService
    let log: TransparencyLog
    let clock: ServerClock
    /// The address devices and auditors reach the server at.
    let publicURL: String
    let sessions = ConsoleSessions()
    private let scoreCache = Mutex<[String: (at: Date, ids: [String])]>([:])
    private let bandCache = Mutex<(at: Date, bands: [Int])?>(nil)
    let activity: ConsoleActivity

    init(
        store: Store, lifecycle: LifecycleService, groups: GroupService, apiKeys: APIKeyService, monitoring: MonitoringService, policy: PolicyService,
        webhooks: WebhookService, log: TransparencyLog, clock: ServerClock, publicURL: String
    ) {
        self.publicURL = publicURL
        self.policy = policy
        self.webhooks = webhooks
        self.store = store
        self.lifecycle = lifecycle
        self.groups = groups
        self.apiKeys = apiKeys
        self.monitoring = monitoring
        self.log = log
        self.clock = clock
        activity = ConsoleActivity(store: store)
    }

    // MARK: Sign-in

    /// Opens a session for the API key whose secret this is. Gateway keys are for enforcement points, not people.
    func signIn(secret: String) async throws -> (cookie: String, session: ConsoleSession) {
        guard let key = try await apiKeys.authenticate(secret) else {
            throw ServiceError.unauthenticated("that API key is unknown or revoked; paste a key that vouch serve printed or vouch admin api-key create made")
        }
        guard key.scope >= .readOnly else {
            throw ServiceError.forbidden("a \(key.scope.rawValue) key is for enforcement points; sign in with a read-only, operator or admin key")
        }
        guard let opened = sessions.open(key: key, now: clock.now) else {
            throw ServiceError.rateLimited(retryAfter: 60)
        }
        return opened
    }

    /// The session a cookie names, with its key's scope as it is now; nil when either has ended.
    func session(cookie: String, touch: Bool = true) async throws -> (ConsoleSession, APIKeyIdentity)? {
        guard let session = sessions.find(cookie: cookie, now: clock.now, touch: touch) else { return nil }
        guard let key = try await store.read({ try await $0.apiKeys.find(id: session.keyID) }), key.revokedAt == nil, key.scope >= .readOnly else {
            sessions.close(keyID: session.keyID)
            return nil
        }
        return (session, APIKeyIdentity(key))
    }

    // MARK: Overview

    struct Overview: Sendable {
        var total: Int
        var byState: [(state: String, count: Int)]
        var byZone: [(zone: String, count: Int)]
        var scoreBands: [Int]
        var signalsPerHour: [(hour: Int, count: Int)]
        var enrollmentsPerHour: [(hour: Int, count: Int)]
        var alerts: [ConsoleActivity.Alert]
        var logSize: UInt64
        var logRoot: String?
        var cosignatures: Int
        var quorum: Int
        var lastEvent: Int
    }

    func overview() async throws -> Overview {
        let (byState, byZone, last) = try await store.read { session in
            (try await session.devices.countsByState(), try await session.devices.countsByZone(), try await session.counters.current(.events))
        }
        let (enrollments, alerts) = try await activity.snapshot(now: clock.now)
        let published = log.published
        return Overview(
            total: byState.values.reduce(0, +),
            byState: DeviceState.allCases.map { ($0.rawValue, byState[$0] ?? 0) },
            byZone: byZone.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map { ($0.key, $0.value) },
            scoreBands: scoreBands(), signalsPerHour: monitoring.signalsPerHour, enrollmentsPerHour: enrollments, alerts: alerts,
            logSize: published?.size ?? 0, logRoot: published.map { Hex.encode($0.root.bytes) },
            cosignatures: published.map { Self.cosignatures(in: $0.note) } ?? 0, quorum: log.configuration.quorum, lastEvent: last)
    }

    /// Witnesses' cosignatures on a checkpoint: its signature lines after the log's own.
    static func cosignatures(in note: String) -> Int {
        max(0, note.split(separator: "\n").filter { $0.hasPrefix("— ") }.count - 1)
    }

    // MARK: Devices

    struct DeviceQuery: Sendable {
        enum Order: String, Sendable, CaseIterable {
            case id, changed
        }

        /// An id prefix, a DID, or an attribute as `name=value`.
        var search: String?
        var state: DeviceState?
        var zone: String?
        var group: String?
        /// Only watched devices whose trust score is in this range (within 0–100).
        var score: ClosedRange<Int>?
        var order = Order.id
        /// Where the page starts: an id, or for `changed` a change time and an id (`TIME~ID`).
        var after: String?
        var limit = 50
    }

    /// A page of devices and the cursor of the next, if there is one. Filters and searches are
    /// answered from an index where one exists (id, DID, state, zone, group, change time); an
    /// attribute search scans until the page is full; a score filter reads the monitor's devices.
    func devices(_ query: DeviceQuery) async throws -> (devices: [DeviceView], next: String?) {
        var groupID: String?
        if let group = query.group { groupID = try await groups.group(group).id }
        let wantedGroup = groupID
        func keeps(_ row: DeviceRecord) -> Bool {
            (query.state == nil || row.state == query.state) && (query.zone == nil || row.zone == query.zone)
                && (wantedGroup == nil || row.groupId == wantedGroup)
        }
        let want = query.limit + 1
        var found: [DeviceRecord] = []
        /// Reads pages of `want` after a cursor until `want` devices pass the filters or
        /// `rounds` pages were read; the last device read is where the next page starts.
        var scannedTo: String?
        func fill(rounds: Int = 20, _ read: @escaping @Sendable (String?) async throws -> [DeviceRecord]) async throws {
            var cursor = query.after
            for _ in 0..<rounds {
                let rows = try await read(cursor)
                found += rows.filter(keeps)
                guard let last = rows.last, rows.count == want, found.count < want else { return }
                cursor = last.id
                scannedTo = last.id
            }
        }
        if let search = query.search, search.hasPrefix("did:") {
            found = try await store.read { try await $0.devices.find(did: search) }.map { [$0] }?.filter(keeps) ?? []
        } else if let search = query.search, let equals = search.firstIndex(of: "=") {
            let name = String(search[..<equals]).trimmingCharacters(in: .whitespaces)
            let value = String(search[search.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw ServiceError.invalidRequest("an attribute search is written name=value, such as model=th-100") }
            let (state, zone) = (query.state, query.zone)
            try await fill { after in
                try await self.store.read { try await $0.devices.list(attribute: name, value: value, state: state, zone: zone, after: after, limit: want) }
            }
        } else if let range = query.score {
            // The monitor knows the scores; the rows are read a chunk at a time until the page is
            // full, at most 5,000 devices a request (the next page goes on from there).
            var ids = scores(in: range)
            if let search = query.search { ids = ids.filter { $0.hasPrefix(search) } }
            if let after = query.after { ids = ids.filter { $0 > after } }
            var start = 0
            while found.count < want, start < ids.count, start < 5_000 {
                let chunk = Array(ids[start..<min(ids.count, start + 200)])
                start += chunk.count
                found += try await store.read { try await $0.devices.find(ids: chunk) }.sorted { $0.id < $1.id }.filter(keeps)
                if found.count < want, start < ids.count { scannedTo = chunk.last }
            }
        } else if query.order == .changed {
            var before: (Int, String)?
            if let after = query.after {
                let parts = after.split(separator: "~", maxSplits: 1)
                guard parts.count == 2, parts[0].utf8.count <= 12, let time = Int(parts[0]) else {
                    throw ServiceError.invalidRequest("after is the cursor a page of recently changed devices links to (TIME~ID)")
                }
                before = (time, String(parts[1]))
            }
            let cursor = before
            found = try await store.read { try await $0.devices.listByChange(state: query.state, zone: query.zone, before: cursor, limit: want) }
                .filter(keeps)
        } else if let search = query.search,
            try await store.read({ try await $0.devices.list(idPrefix: search, after: nil, limit: 1) }).isEmpty
        {
            // No id starts so: the search is an attribute's value, whatever its name.
            let (state, zone) = (query.state, query.zone)
            try await fill { after in
                try await self.store.read { try await $0.devices.list(attribute: nil, value: search, state: state, zone: zone, after: after, limit: want) }
            }
        } else if let search = query.search {
            try await fill { after in try await self.store.read { try await $0.devices.list(idPrefix: search, after: after, limit: want) } }
        } else {
            found = try await store.read {
                try await $0.devices.list(state: query.state, groupID: wantedGroup, zone: query.zone, after: query.after, limit: want)
            }
        }
        // A search that stopped reading before the page was full goes on from where it stopped.
        if found.count <= query.limit, let scannedTo {
            return (found.map(DeviceView.init), scannedTo)
        }
        let page = Array(found.prefix(query.limit))
        var next: String?
        if found.count > query.limit, let last = page.last {
            next = query.order == .changed && query.score == nil && query.search == nil ? "\(last.updatedAt)~\(last.id)" : last.id
        }
        return (page.map(DeviceView.init), next)
    }

    /// The watched devices scoring in `range`, kept for five seconds: scoring every watched device
    /// takes time in a large fleet, and an operator pages through the same list.
    func scores(in range: ClosedRange<Int>) -> [String] {
        let now = clock.now
        let key = "\(range.lowerBound)-\(range.upperBound)"
        if let kept = scoreCache.withLock({ $0[key] }), now.timeIntervalSince(kept.at) < 5 { return kept.ids }
        let ids = monitoring.devices(scoring: range)
        scoreCache.withLock { cache in
            if cache.count > 100 { cache.removeAll() }
            cache[key] = (now, ids)
        }
        return ids
    }

    /// The trust-score bands of the overview, kept for five seconds.
    func scoreBands() -> [Int] {
        let now = clock.now
        if let kept = bandCache.withLock({ $0 }), now.timeIntervalSince(kept.at) < 5 { return kept.bands }
        let bands = monitoring.scoreBands
        bandCache.withLock { $0 = (now, bands) }
        return bands
    }

    func device(_ id: String) async throws -> (DeviceDetail, TrustReport, ConsoleActivity.Alert?) {
        let detail = try await lifecycle.detail(id)
        return (detail, monitoring.trustReport(of: id), try await activity.alert(about: id, now: clock.now))
    }
}
