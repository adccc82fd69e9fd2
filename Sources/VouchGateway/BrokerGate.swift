import Foundation
import Synchronization
import VouchAPI
import VouchCore
import VouchKit

/// A broker's enforcement of Vouch, decided in process: which connections are devices that may act,
/// and what each may publish, subscribe to and receive, as `POST /v1/authorize` would decide under
/// the same policy (the same `Authorizer`, the same subjects). The broker calls it on its own thread
/// for every connection and check; `GatewaySync` keeps its directory of devices and its policy
/// current from the server. Nothing here blocks: a check is a lock, a few lookups and, on a cache
/// miss, one decision.
///
/// Connections are named by the broker (an opaque number, such as the address of its client
/// structure); a connection is admitted once, by its certificate, and every later check asks who
/// was admitted on it, never the name the client gave. Changes that take rights away (revoked,
/// suspended, quarantined, a certificate no longer good) queue the connection's client id to be
/// disconnected, which the broker drains (`takeDisconnects`) on its own thread.
public final class BrokerGate: Sendable {
    /// What a client asks to do.
    public enum Access: UInt8, Sendable, Hashable {
        case publish = 1
        case subscribe = 2
        case receive = 3

        /// The policy action it is decided as.
        public var action: String {
            switch self {
            case .publish: "publish"
            case .subscribe: "subscribe"
            case .receive: "receive"
            }
        }
    }

    /// How long the gate decides from what it has without hearing from the server, and what it
    /// does after that.
    public struct Settings: Sendable {
        /// Past this without a word from the server (a frame or a heartbeat), new connections are
        /// refused when `failClosed`; checks of open connections go on from what the gate has.
        public var maxStaleness: Duration
        /// Refuse new connections once the directory is stale (the default), or keep admitting.
        public var failClosed: Bool
        /// Decisions kept per device before its cache is emptied.
        public var decisionsPerDevice: Int

        public init(maxStaleness: Duration = .seconds(300), failClosed: Bool = true, decisionsPerDevice: Int = 1024) {
            self.maxStaleness = maxStaleness
            self.failClosed = failClosed
            self.decisionsPerDevice = decisionsPerDevice
        }
    }

    /// The answer to a connection.
    public enum Admission: Sendable, Equatable {
        /// A device that may act: the broker names the connection after it.
        case admitted(device: String)
        /// Refused, and why (for the broker's log).
        case refused(String)
    }

    /// Counts since start, for the broker's log and the server's monitoring.
    public struct Counts: Sendable, Equatable {
        public var admitted = 0
        public var refused = 0
        public var allowed = 0
        public var denied = 0
        public var cacheHits = 0
        public var disconnectsQueued = 0
    }

    struct Connection {
        var device: String
        var serial: String
        var clientID: String
    }

    struct DecisionKey: Hashable {
        var access: Access
        var topic: String
    }

    struct Slot {
        var device: GatewayDevice
        var facts: DeviceFacts
        var mayAct: Bool
        /// The subject under `subjectVersion`, computed at the first decision.
        var subject: AuthorizationSubject?
        var subjectVersion = -1
        /// Whether decisions depend on the time or address (then they are not cached).
        var conditional = false
        var decisions: [DecisionKey: Bool] = [:]
        /// The device's key, read from its JWK at its first signed message.
        var key: PublicKey?

        init(_ device: GatewayDevice) {
            self.device = device
            let state = DeviceState(rawValue: device.state)
            self.mayAct = state?.mayAct ?? false
            self.facts = DeviceFacts(
                id: device.id, did: device.did, zone: device.zone, group: device.group, attributes: device.attributes, roles: device.roles,
                quarantined: state == .quarantined)
        }
    }

    struct State {
        var devices: [String: Slot] = [:]
        var policy = CompiledPolicy(version: 0, document: .empty)
        /// The event sequence the directory is current with; nil until it is loaded.
        var sequence: Int?
        var lastHeard: ContinuousClock.Instant?
        var connections: [UInt: Connection] = [:]
        var disconnects: [String] = []
        var counts = Counts()
        /// What each device did since the last report.
        var reports: [String: GatewayDeviceReport] = [:]

        /// The key of `device`, read from its JWK the first time it is needed.
        mutating func key(of device: String) -> PublicKey? {
            guard var slot = devices[device] else { return nil }
            if let key = slot.key { return key }
            slot.key = try? PublicKey(jwk: slot.device.publicKey)
            devices[device] = slot
            return slot.key
        }

        mutating func report(_ device: String, _ change: (inout GatewayDeviceReport) -> Void) {
            change(&reports[device, default: GatewayDeviceReport(id: device)])
        }

        mutating func tally(_ allowed: Bool, _ access: Access, bytes: Int, device: String) {
            if allowed {
                counts.allowed += 1
                if access == .receive {
                    report(device) { report in
                        report.messagesOut += 1
                        report.bytesOut += bytes
                    }
                }
            } else {
                counts.denied += 1
                report(device) { $0.denials += 1 }
            }
        }
    }

    public let settings: Settings
    private let state = Mutex(State())
    /// The highest envelope sequence accepted per device (signed topics).
    private let replayGuard = ReplayGuard(capacity: 1_000_000, window: BrokerGate.clockWindow)
    /// Envelopes older than this are beyond the replay memory.
    private let startedAt: Date

    public init(settings: Settings = Settings(), startedAt: Date = Date()) {
        self.settings = settings
        self.startedAt = startedAt
    }

    // MARK: The broker's side

    /// Admits connection `connection` of client `clientID` presenting `certificateDER` (already
    /// verified by the broker's TLS against Vouch's CA), or says why not: it must be a good
    /// certificate of a device that may act, and the client id must be the device id (or start
    /// with it and a dash), so that no device can take over another's session.
    public func admit(
        connection: UInt, clientID: String?, certificateDER: [UInt8]?, sourceAddress: String? = nil, now: ContinuousClock.Instant = .now
    ) -> Admission {
        let answer = decideAdmission(clientID: clientID, certificateDER: certificateDER, now: now)
        state.withLock { state in
            switch answer {
            case .success(let admitted):
                state.connections[connection] = admitted
                state.counts.admitted += 1
                state.report(admitted.device) { report in
                    report.connects += 1
                    if let sourceAddress { report.add(source: sourceAddress) }
                }
            case .failure(let refusal):
                state.connections[connection] = nil
                state.counts.refused += 1
                // A certificate that names a device here counts against it (revoked, superseded, borrowed).
                if let device = refusal.device { state.report(device) { $0.authFailures += 1 } }
            }
        }
        switch answer {
        case .success(let admitted): return .admitted(device: admitted.device)
        case .failure(let refusal): return .refused(refusal.reason)
        }
    }

    struct Refusal: Error {
        var reason: String
        /// The device the certificate names, when it is one.
        var device: String? = nil
    }

    private func decideAdmission(clientID: String?, certificateDER: [UInt8]?, now: ContinuousClock.Instant) -> Result<Connection, Refusal> {
        guard let certificateDER else {
            return .failure(Refusal(reason: "no client certificate: Vouch devices connect with the certificate Vouch issued them (require_certificate true)"))
        }
        guard let identity = try? CertificateIdentity(der: certificateDER) else {
            return .failure(Refusal(reason: "the client certificate does not parse as X.509 with a common name"))
        }
        return state.withLock { state -> Result<Connection, Refusal> in
            guard state.sequence != nil else {
                return .failure(Refusal(reason: "the Vouch directory is not loaded yet; connections are refused until it is"))
            }
            if settings.failClosed, let heard = state.lastHeard, heard + settings.maxStaleness < now {
                return .failure(Refusal(reason: "Vouch has not been heard from for \(heard.duration(to: now).components.seconds) s (max_staleness); new connections are refused until it is"))
            }
            guard let slot = state.devices[identity.commonName] else {
                return .failure(Refusal(reason: "certificate \(identity.serial) names \(identity.commonName.prefix(64)), which is not a device of this Vouch"))
            }
            let device = slot.device.id
            guard slot.mayAct else {
                return .failure(Refusal(reason: "device \(device) is \(slot.device.state) and may not connect", device: device))
            }
            guard slot.device.serials.contains(identity.serial) else {
                return .failure(Refusal(reason: "certificate \(identity.serial) of device \(device) is revoked, on hold, expired or superseded", device: device))
            }
            // A serial is public: the certificate must also certify the device's own key, so that
            // another CA the broker trusts cannot mint one in its name.
            guard let key = identity.key, key == state.key(of: device) else {
                return .failure(Refusal(reason: "certificate \(identity.serial) does not certify the key of device \(device)", device: device))
            }
            guard let clientID, clientID == device || clientID.hasPrefix(device + "-") else {
                return .failure(Refusal(
                    reason: "device \(device) must connect with its id as client id (or the id, a dash and a suffix), not \(clientID?.prefix(64) ?? "none")",
                    device: device))
            }
            return .success(Connection(device: device, serial: identity.serial, clientID: clientID))
        }
    }

    /// Whether connection `connection` was admitted (as a device, now).
    public func isAdmitted(_ connection: UInt) -> Bool {
        state.withLock { $0.connections[connection] != nil }
    }

    /// Queues client `clientID` to be disconnected (a connection the broker let in without asking,
    /// refused at its first check).
    public func queueDisconnect(_ clientID: String) {
        state.withLock { state in
            state.disconnects.append(clientID)
            state.counts.disconnectsQueued += 1
        }
    }

    /// The broker has closed `connection`.
    public func disconnected(_ connection: UInt) {
        state.withLock { state in
            if let gone = state.connections.removeValue(forKey: connection) { state.report(gone.device) { $0.disconnects += 1 } }
        }
    }

    /// May the device admitted on `connection` do `access` on `topic`? Deny by default: an unknown
    /// connection, a device that may no longer act, a topic the policy does not allow.
    public func check(
        _ connection: UInt, _ access: Access, topic: String, sourceAddress: @autoclosure () -> String? = nil, bytes: Int = 0, now: Date = Date()
    ) -> Bool {
        state.withLock { state in
            guard let connection = state.connections[connection], var slot = state.devices[connection.device], slot.mayAct else {
                state.counts.denied += 1
                return false
            }
            let key = DecisionKey(access: access, topic: topic)
            if slot.subjectVersion == state.policy.version, let cached = slot.decisions[key] {
                state.counts.cacheHits += 1
                state.tally(cached, access, bytes: bytes, device: connection.device)
                return cached
            }
            // A miss: the slot is taken out while it changes, so that the dictionary does not copy it.
            state.devices[connection.device] = nil
            defer { state.devices[connection.device] = slot }
            if slot.subjectVersion != state.policy.version || slot.subject == nil {
                let subject = state.policy.subject(for: slot.facts)
                slot.subject = subject
                slot.subjectVersion = state.policy.version
                slot.conditional = subject.statements.contains { !$0.conditions.isEmpty }
                slot.decisions.removeAll()
            }
            let allowed = Self.decide(access, topic: topic, subject: slot.subject!, policy: state.policy, sourceAddress: slot.conditional ? sourceAddress() : nil, now: now)
            if !slot.conditional {
                if slot.decisions.count >= settings.decisionsPerDevice { slot.decisions.removeAll(keepingCapacity: true) }
                slot.decisions[key] = allowed
            }
            state.tally(allowed, access, bytes: bytes, device: connection.device)
            return allowed
        }
    }

    /// The decision `POST /v1/authorize` gives for a device that may act.
    static func decide(
        _ access: Access, topic: String, subject: AuthorizationSubject, policy: CompiledPolicy, sourceAddress: String?, now: Date
    ) -> Bool {
        var context = AuthorizationContext(time: now)
        context.sourceAddress = sourceAddress.flatMap(IPAddress.init)
        guard let request = try? AuthorizationRequest(action: access.action, resource: topic, context: context) else { return false }
        return Authorizer.decide(request, for: subject, zones: policy.zoneRules).allowed
    }

    /// The client ids to disconnect now: devices that lost the right to be connected since the
    /// last call. The broker calls this on its own thread (Mosquitto: on every tick).
    public func takeDisconnects() -> [String] {
        state.withLock { state in
            guard !state.disconnects.isEmpty else { return [] }
            defer { state.disconnects.removeAll() }
            return state.disconnects
        }
    }

    public var counts: Counts { state.withLock { $0.counts } }

    /// What becomes of a published message.
    public enum MessageVerdict: Sendable, Equatable {
        /// Passed on to subscribers.
        case passed
        /// Dropped, and why (for the broker's log).
        case dropped(String)
    }

    /// The clock window of signed envelopes, as the server's telemetry ingest has it.
    public static let clockWindow: TimeInterval = 300
    /// The largest envelope taken on a signed topic.
    public static let envelopeLimit = 16 * 1024

    /// A message published on `connection` (after its publish was allowed). On a topic the policy
    /// marks as signed, it must be a telemetry envelope of the publishing device, for this topic,
    /// in the clock window and above the last sequence number accepted; anything else is dropped
    /// and counted (forged, replayed, clock skew). Other messages pass, counted.
    public func message(_ connection: UInt, topic: String, payload: UnsafeRawBufferPointer, now: Date = Date()) -> MessageVerdict {
        enum Need {
            case none
            case unknown
            case signature(device: String, did: String, key: PublicKey?)
        }
        let need = state.withLock { state -> Need in
            guard let connection = state.connections[connection], let slot = state.devices[connection.device] else { return .unknown }
            guard state.policy.requiresSignature(topic: topic) else {
                state.report(connection.device) { report in
                    report.messagesIn += 1
                    report.bytesIn += payload.count
                }
                return .none
            }
            return .signature(device: slot.device.id, did: slot.device.did, key: state.key(of: slot.device.id))
        }
        let device: String
        let failure: (Failure, String)?
        switch need {
        case .none:
            return .passed
        case .unknown:
            return .dropped("the connection was not admitted")
        case .signature(let id, let did, let key):
            device = id
            failure = verify(payload, topic: topic, device: id, did: did, key: key, now: now)
        }
        state.withLock { state in
            state.report(device) { report in
                switch failure?.0 {
                case nil:
                    report.messagesIn += 1
                    report.bytesIn += payload.count
                case .forged: report.forged += 1
                case .replayed: report.replayed += 1
                case .clock: report.clockSkew += 1
                }
            }
        }
        return failure.map { .dropped($0.1) } ?? .passed
    }

    enum Failure { case forged, replayed, clock }

    /// The envelope's checks, outside the lock (a signature check is the slow part).
    private func verify(
        _ payload: UnsafeRawBufferPointer, topic: String, device: String, did: String, key: PublicKey?, now: Date
    ) -> (Failure, String)? {
        guard let key else { return (.forged, "device \(device) has no usable key to check envelopes with") }
        guard payload.count <= Self.envelopeLimit, let token = String(validating: payload, as: UTF8.self) else {
            return (.forged, "not a telemetry envelope: topic \(topic.prefix(128)) takes only envelopes signed by the device (at most 16 KiB)")
        }
        let envelope: TelemetryEnvelope
        switch TelemetryEnvelope.open(token, device: did, key: key) {
        case .success(let opened): envelope = opened
        case .failure(let failure): return (.forged, "not an envelope of \(device)'s: \(failure.reason)")
        }
        guard envelope.topic == topic else {
            return (.forged, "the envelope is for topic \(envelope.topic.prefix(128)), published to \(topic.prefix(128))")
        }
        let skew = envelope.time.timeIntervalSince(now)
        guard abs(skew) <= Self.clockWindow else {
            return (.clock, "sent \(Int(skew.rounded())) s from the broker's clock; the window is \(Int(Self.clockWindow)) s")
        }
        guard envelope.time >= startedAt else {
            return (.clock, "sent before this broker started, beyond its replay memory; send it again with a new sequence number")
        }
        if case .failure(let failure) = replayGuard.accept(device: device, sequence: envelope.sequence, time: envelope.time, now: now) {
            return (.replayed, failure.reason)
        }
        return nil
    }

    /// What devices did since the last call, for the server's monitoring.
    public func takeReports() -> [GatewayDeviceReport] {
        state.withLock { state in
            defer { state.reports.removeAll(keepingCapacity: true) }
            return Array(state.reports.values)
        }
    }

    /// Puts back reports that could not be sent, added to what came since.
    public func restore(_ reports: [GatewayDeviceReport]) {
        state.withLock { state in
            for old in reports { state.report(old.id) { $0.add(old) } }
        }
    }

    // MARK: The server's side (GatewaySync)

    /// The event sequence the directory is current with; nil until it is loaded.
    public var sequence: Int? { state.withLock { $0.sequence } }

    /// The policy version decisions use.
    public var policyVersion: Int { state.withLock { $0.policy.version } }

    /// Whether the gate has heard from the server within the staleness allowed.
    public func isFresh(now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { state in state.lastHeard.map { $0 + settings.maxStaleness >= now } ?? false }
    }

    /// Replaces the directory and the policy (unless nil: the one in force stays) with a full load,
    /// current with event `sequence`.
    public func load(devices: [GatewayDevice], policy: CompiledPolicy?, sequence: Int, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            var fresh: [String: Slot] = [:]
            fresh.reserveCapacity(devices.count)
            for device in devices { fresh[device.id] = Slot(device) }
            let old = state.devices
            state.devices = fresh
            if let policy, policy.version != state.policy.version { state.policy = policy }
            for (id, slot) in old where fresh[id] == nil || Self.losesRights(from: slot.device, to: fresh[id]!.device) {
                Self.disconnect(device: id, keepingSerials: fresh[id]?.device.serials, in: &state)
            }
            state.sequence = sequence
            state.lastHeard = now
        }
    }

    /// Applies a changed device (a `device` frame) as of event `sequence`.
    public func apply(_ device: GatewayDevice, sequence: Int?, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            let old = state.devices[device.id]
            state.devices[device.id] = Slot(device)
            if let old, Self.losesRights(from: old.device, to: device) {
                Self.disconnect(device: device.id, keepingSerials: device.serials, in: &state)
            }
            Self.heard(sequence, now, in: &state)
        }
    }

    /// Applies a removed device.
    public func remove(device id: String, sequence: Int?, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            state.devices[id] = nil
            Self.disconnect(device: id, keepingSerials: nil, in: &state)
            Self.heard(sequence, now, in: &state)
        }
    }

    /// Applies a new policy: every cached decision goes.
    public func apply(policy: CompiledPolicy, sequence: Int?, now: ContinuousClock.Instant = .now) {
        state.withLock { state in
            if policy.version != state.policy.version { state.policy = policy }
            Self.heard(sequence, now, in: &state)
        }
    }

    /// The server said something (a heartbeat).
    public func heard(sequence: Int? = nil, now: ContinuousClock.Instant = .now) {
        state.withLock { Self.heard(sequence, now, in: &$0) }
    }

    private static func heard(_ sequence: Int?, _ now: ContinuousClock.Instant, in state: inout State) {
        state.lastHeard = now
        if let sequence, let current = state.sequence, sequence > current { state.sequence = sequence }
    }

    /// Whether `new` takes away something `old` had: the right to act, the zone it acted in
    /// (quarantine), or a certificate.
    static func losesRights(from old: GatewayDevice, to new: GatewayDevice) -> Bool {
        let wasActing = DeviceState(rawValue: old.state)?.mayAct ?? false
        let acts = DeviceState(rawValue: new.state)?.mayAct ?? false
        if wasActing && !acts { return true }
        if old.state != DeviceState.quarantined.rawValue && new.state == DeviceState.quarantined.rawValue { return true }
        return !Set(old.serials).isSubset(of: Set(new.serials))
    }

    /// Queues the connections of `device` to be closed: all of them, or with `keepingSerials`
    /// those whose certificate is not among them (or whose device may no longer act).
    private static func disconnect(device: String, keepingSerials: [String]?, in state: inout State) {
        let acts = state.devices[device].map { $0.mayAct && $0.device.state != DeviceState.quarantined.rawValue } ?? false
        for (key, connection) in state.connections where connection.device == device {
            // A quarantined device is reconnected to the allow-list; a lost certificate only drops its connections.
            if acts, let keeping = keepingSerials, keeping.contains(connection.serial) { continue }
            state.disconnects.append(connection.clientID)
            state.connections[key] = nil
            state.counts.disconnectsQueued += 1
        }
    }
}
