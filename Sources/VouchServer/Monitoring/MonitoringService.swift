import Foundation
import Logging
import VouchCore
import VouchKit
import VouchStore

extension DeviceDirectory.Entry {
    /// What monitoring compares the device by: its group, zone (quarantine while quarantined) and model.
    var profile: DeviceProfile {
        DeviceProfile(group: facts.group, zone: facts.quarantined ? ZoneRules.quarantineZone : facts.zone, model: facts.attributes["model"] ?? "")
    }
}

/// What each device has been observed doing (telemetry, authentication, decisions), the signals
/// raised, trust scores, and the response rules that fire. Detectors run inside request handlers
/// and never wait for the database: the orders they give are queued for the `Responder`.
final class MonitoringService: Sendable {
    private let monitor: FleetMonitor
    /// Responses ordered by the rules, for the `Responder` service.
    let responses = ResponseQueue()
    /// The last few accepted messages per device, when the server keeps them (`--telemetry-keep`).
    let recentTelemetry: RecentTelemetry
    private let directory: DirectoryService
    private let clock: ServerClock
    private let logger: Logger

    init(directory: DirectoryService, clock: ServerClock, logger: Logger, deviceLimit: Int = FleetMonitor.defaultDeviceLimit) {
        monitor = FleetMonitor(deviceLimit: deviceLimit)
        recentTelemetry = RecentTelemetry(deviceLimit: deviceLimit)
        self.directory = directory
        self.clock = clock
        self.logger = logger
    }

    /// Takes up the monitoring rules of a new policy.
    func configure(_ rules: MonitoringRules) {
        monitor.configure(rules)
    }

    /// Feeds what a request showed of a device into monitoring, and queues the responses it brings.
    /// A revoked or decommissioned device is not watched: nothing it does is held in memory.
    func observe(_ observation: Observation, of entry: DeviceDirectory.Entry) {
        guard Self.isWatched(entry.row.state) else { return }
        let orders = monitor.record(observation, device: entry.row.id, profile: entry.profile, at: clock.now)
        if !orders.isEmpty { queue(orders) }
    }

    /// Raises a signal found outside the request counts (a firmware verdict), counting `metric`.
    func raise(_ kind: SignalKind, detail: String, counting metric: DeviceMetric, of entry: DeviceDirectory.Entry) {
        guard Self.isWatched(entry.row.state) else { return }
        let orders = monitor.raise(kind, detail: detail, counting: metric, device: entry.row.id, profile: entry.profile, at: clock.now)
        if !orders.isEmpty { queue(orders) }
    }

    /// Whether monitoring records what a device in `state` does: not once it is revoked or
    /// decommissioned.
    static func isWatched(_ state: DeviceState) -> Bool { state != .revoked && state != .decommissioned }

    /// A device left service (revoked or decommissioned): nothing more is recorded for it, its last
    /// messages are dropped, and its record (the trust report that explains why) is kept until
    /// monitoring needs the room, when it goes first.
    func retire(_ id: String) {
        monitor.retire(id)
        recentTelemetry.forget(id)
    }

    /// How many devices monitoring holds state for, and how many it dropped to stay within its limit.
    var watchedDevices: Int { monitor.deviceCount }
    var evictedDevices: Int { monitor.evictedDevices }
    /// Signals raised since start, by kind.
    var signalsRaised: [String: Int] { monitor.signalsRaised }

    /// Signals raised on this server in each of the last 24 hours, oldest first.
    var signalsPerHour: [(hour: Int, count: Int)] { monitor.signalsPerHour(endingAt: clock.now) }
    /// How the trust scores of the devices this server watches are spread, in ten bands of ten points.
    var scoreBands: [Int] { monitor.scoreBands(at: clock.now) }

    /// The devices this server watches whose trust score is in `range`, in id order.
    func devices(scoring range: ClosedRange<Int>) -> [String] { monitor.devices(scoring: range, at: clock.now) }

    /// Clears what was held against a device an operator let back.
    func release(_ id: String, cause: String) {
        monitor.release(id, at: clock.now, cause: cause)
    }

    /// Counts a refused authentication against the device the proof names, if it is one of ours
    /// (the proof's signature did not hold, so the name is only a claim: it weighs little, and
    /// unknown names are not remembered).
    func noteFailedAuthentication(proof: String) async {
        guard let jws = try? CompactJWS(parsing: proof), let claimed = try? JSONValue(parsing: jws.payload)["deviceId"]?.stringValue,
            claimed.utf8.count <= 128, let entry = (try? await directory.entry(claimed)) ?? nil
        else { return }
        observe(.counting(.authFailures), of: entry)
    }

    /// Counts a device's authentication (a connection, from `source`).
    func noteAuthenticated(_ deviceID: String, source: IPAddress?) async throws {
        if let entry = try await directory.entry(deviceID) {
            observe(Observation(source: source, connection: true), of: entry)
        }
    }

    /// The device's trust score and its explanation.
    func trust(of id: String) async throws -> TrustReport {
        guard try await directory.entry(id) != nil else { throw ServiceError.notFound("no device with id \(id.prefix(64))") }
        return monitor.trust(of: id, at: clock.now)
    }

    /// The trust report of a device known to exist.
    func trustReport(of id: String) -> TrustReport {
        monitor.trust(of: id, at: clock.now)
    }

    /// What this server has observed of a device.
    func activity(of id: String) -> FleetMonitor.Activity? {
        monitor.activity(of: id, at: clock.now)
    }

    private func queue(_ orders: [ResponseOrder]) {
        for lost in responses.submit(orders) {
            logger.error("response queue full: an automated response was dropped", metadata: [
                "device.id": "\(lost.device)", "monitor.rule": "\(lost.rule)", "monitor.action": "\(lost.action.rawValue)",
            ])
        }
    }
}
