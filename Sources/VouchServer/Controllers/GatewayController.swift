import Foundation
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

/// What an enforcement point (a broker plugin, a gateway) needs to decide on its own, as the server
/// would: `/v1/gateway/devices` (pages, and one by id), `/v1/gateway/policy`, and
/// `/v1/gateway/stream`, the changes to both as Server-Sent Events. Any API key, `gateway` scope
/// included; it reads devices' decision facts and the policy, nothing else.
///
/// A client walks the pages, remembers the first page's `sequence`, and streams after it: every
/// change committed since reaches it as a `device`, `removed` or `policy` frame carrying the state
/// as read when the frame is sent (so replaying a frame twice is harmless).
struct GatewayController<Keys: APIKeyManaging>: Sendable {
    let apiKeys: Keys
    let store: Store
    let heartbeat: Duration
    let clock: ServerClock
    let directory: DirectoryService
    let monitoring: MonitoringService
    /// Streams open on this server.
    let open: ServerSentEvents.OpenStreams

    var endpoints: RouteCollection<VouchRequestContext> {
        let routes = RouteCollection(context: VouchRequestContext.self)
            .add(middleware: APIKeyAuthenticator(apiKeys: apiKeys))
            .add(middleware: RequireScope(.gateway))
        routes.get("devices", use: devices)
        routes.get("devices/{id}", use: device)
        routes.get("policy", use: policy)
        routes.get("stream", use: stream)
        routes.post("reports", use: report)
        return routes
    }

    /// Events read from the table at a time by a stream.
    static var page: Int { 500 }

    @Sendable func devices(_ request: Request, context: VouchRequestContext) async throws -> Answer<GatewayDevicePage> {
        let query = request.uri.queryParameters
        guard let limit = Int(query["limit"].map(String.init) ?? "500"), (1...1000).contains(limit) else {
            throw ServiceError.invalidRequest("limit must be a whole number from 1 to 1000")
        }
        let after = query["after"].map(String.init)
        if let after, after.isEmpty || after.utf8.count > 256 {
            throw ServiceError.invalidRequest("after is the next of the previous page: a device id, 1 to 256 characters")
        }
        let now = clock.seconds
        // The sequence is read first: a change committed during the walk is then after it.
        let (sequence, page, more) = try await store.read { session -> (Int, [GatewayDevice], Bool) in
            let sequence = try await session.counters.current(.events)
            let rows = try await session.devices.list(state: nil, groupID: nil, zone: nil, after: after, limit: limit + 1)
            return (sequence, try await Self.views(of: Array(rows.prefix(limit)), in: session, at: now), rows.count > limit)
        }
        return Answer(GatewayDevicePage(sequence: sequence, devices: page, next: more ? page.last?.id : nil))
    }

    @Sendable func device(_ request: Request, context: VouchRequestContext) async throws -> Answer<GatewayDevice> {
        let id = try context.parameters.require("id")
        let now = clock.seconds
        let found = try await store.read { session -> GatewayDevice? in
            guard let row = try await session.devices.find(id: id) else { return nil }
            return try await Self.views(of: [row], in: session, at: now).first
        }
        guard let found else { throw ServiceError.notFound("no device \(id.prefix(64))") }
        return Answer(found)
    }

    @Sendable func policy(_ request: Request, context: VouchRequestContext) async throws -> Answer<GatewayPolicy> {
        let row = try await store.read { try await $0.policies.latest() }
        return Answer(GatewayPolicy(version: row?.version ?? 0, source: row?.source ?? ""))
    }

    @Sendable func stream(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let newest = try await store.read { try await $0.counters.current(.events) }
        let start = try ServerSentEvents.start(request, newest: newest, what: "event")
        // The key is asked again as the stream goes on: a revoked key's stream ends.
        let secret = String(request.headers[.authorization]?.dropFirst("Bearer ".count) ?? "")
        let apiKeys = self.apiKeys
        let store = self.store
        let clock = self.clock
        return ServerSentEvents.response(
            open: open, pulse: store.database.eventsCommitted, heartbeat: heartbeat, start: start, greeting: "changes after event \(start)"
        ) { after in
            guard let key = try? await apiKeys.authenticate(secret), key.revokedAt == nil else { return nil }
            let now = clock.seconds
            return try await store.read { session in
                let events = try await session.events.after(after, limit: Self.page)
                return ServerSentEvents.Page(
                    frames: try await Self.frames(for: events.map { ($0.seq, $0.kind, $0.subject) }, in: session, at: now),
                    last: events.last?.seq ?? after, more: events.count == Self.page)
            }
        }
    }

    /// `POST /v1/gateway/reports`: what a broker saw devices do, into monitoring as telemetry goes.
    /// Only enforcement points report (a gateway key): an operator's key could otherwise move scores.
    @Sendable func report(_ request: Request, context: VouchRequestContext) async throws -> Answer<GatewayReportAnswer> {
        guard try context.apiKey.scope == .gateway else {
            throw ServiceError.forbidden("reports come from enforcement points: use a gateway-scoped API key")
        }
        let report = try await request.decode(as: GatewayReport.self, context: context)
        guard report.devices.count <= GatewayReport.limit else {
            throw ServiceError.invalidRequest("a report holds at most \(GatewayReport.limit) devices; send the rest in another")
        }
        var parsed: [(GatewayDeviceReport, [IPAddress])] = []
        for device in report.devices {
            guard !device.id.isEmpty, device.id.utf8.count <= 256 else { throw ServiceError.invalidRequest("a device id is 1 to 256 characters") }
            for (name, value) in device.counts where !(0...Int(UInt32.max)).contains(value) {
                throw ServiceError.invalidRequest("\(name) of \(device.id.prefix(64)) is \(value); counts are from 0 to \(UInt32.max)")
            }
            guard device.sources.count <= GatewayDeviceReport.sourceLimit else {
                throw ServiceError.invalidRequest("sources of \(device.id.prefix(64)) holds \(device.sources.count) addresses; at most \(GatewayDeviceReport.sourceLimit)")
            }
            var sources: [IPAddress] = []
            for source in device.sources {
                guard let address = IPAddress(source) else {
                    throw ServiceError.invalidRequest("sources of \(device.id.prefix(64)) holds \(source.prefix(64)), which is not an IPv4 or IPv6 address")
                }
                sources.append(address)
            }
            parsed.append((device, sources))
        }
        // Everything is checked before anything is counted.
        var accepted = 0
        var unknown: [String] = []
        for (device, sources) in parsed {
            guard let entry = try await directory.entry(device.id), entry.row.id == device.id else {
                unknown.append(device.id)
                continue
            }
            // Connections are counted as reported (the flag would add one more).
            var observation = Observation(source: sources.first, connection: false)
            observation.count(.connections, UInt32(device.connects))
            observation.count(.messages, UInt32(device.messagesIn))
            observation.count(.bytes, UInt32(device.bytesIn))
            observation.count(.authFailures, UInt32(device.authFailures))
            observation.count(.policyDenials, UInt32(device.denials))
            observation.count(.signatureFailures, UInt32(device.forged))
            observation.count(.replays, UInt32(device.replayed))
            observation.count(.clockSkew, UInt32(device.clockSkew))
            monitoring.observe(observation, of: entry)
            for source in sources.dropFirst() { monitoring.observe(Observation(source: source), of: entry) }
            accepted += 1
        }
        return Answer(GatewayReportAnswer(accepted: accepted, unknown: unknown))
    }

    /// The frames for a run of events: the policy when it changed, and each device an event is
    /// about, once, at the position of its last event there.
    static func frames(for events: [(seq: Int, kind: String, subject: String)], in session: StoreSession, at now: Int) async throws -> String {
        var lastSeq: [String: Int] = [:]
        var policySeq: Int?
        for event in events {
            if event.kind == EventKind.policyUpdated.rawValue {
                policySeq = event.seq
            } else if event.kind.hasPrefix("device.") || event.kind.hasPrefix("certificate.") {
                lastSeq[event.subject] = event.seq
            }
        }
        var frames: [(seq: Int, text: String)] = []
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if let policySeq, let row = try await session.policies.latest() {
            let data = try encoder.encode(GatewayPolicy(version: row.version, source: row.source))
            frames.append((policySeq, "id: \(policySeq)\nevent: policy\ndata: " + String(decoding: data, as: UTF8.self) + "\n\n"))
        }
        if !lastSeq.isEmpty {
            var found: [String: GatewayDevice] = [:]
            for view in try await views(of: try await session.devices.find(ids: Array(lastSeq.keys)), in: session, at: now) { found[view.id] = view }
            for (id, seq) in lastSeq {
                let data = try found[id].map { try encoder.encode($0) } ?? (try encoder.encode(GatewayRemoval(id: id)))
                frames.append((seq, "id: \(seq)\nevent: \(found[id] == nil ? "removed" : "device")\ndata: " + String(decoding: data, as: UTF8.self) + "\n\n"))
            }
        }
        return frames.sorted { $0.seq < $1.seq }.map(\.text).joined()
    }

    /// Devices as an enforcement point sees them, with their group's name and good certificates.
    static func views(of rows: [DeviceRecord], in session: StoreSession, at now: Int) async throws -> [GatewayDevice] {
        guard !rows.isEmpty else { return [] }
        var groups: [String: String] = [:]
        for group in try await session.groups.all() { groups[group.id] = group.name }
        let serials = try await session.certificates.goodSerials(deviceIDs: rows.map(\.id), at: now)
        return rows.map { row in
            GatewayDevice(
                id: row.id, did: row.did, state: row.state.rawValue, zone: row.zone, group: groups[row.groupId] ?? "", attributes: row.attributes,
                roles: row.roles, serials: serials[row.id] ?? [], publicKey: row.publicKey)
        }
    }
}
