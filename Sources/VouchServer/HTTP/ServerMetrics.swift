import Prometheus
import Synchronization
import VouchCore

/// What `/metrics` exposes, in Prometheus' text format, through swift-prometheus: request rate and
/// latency per route, and the product's own counts (enrollments, revocations, decisions, telemetry,
/// signals and responses, the log). Each server has its registry, so that the servers a test process
/// runs count apart; every family has its help text, as `promtool check metrics` requires.
///
/// Hummingbird's `MetricsMiddleware` is not used: it reports through the process-wide swift-metrics
/// system under names (`hb.requests`, no help text) that promtool's lint refuses.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    /// A route's instruments, made once per method, route and status.
    private struct RouteKey: Hashable {
        let method: String
        let route: String
        let status: Int
    }

    private struct RouteInstruments {
        let requests: Counter
        let duration: DurationHistogram
    }

    private let routes = Mutex<[RouteKey: RouteInstruments]>([:])
    /// Requests are counted per route pattern, never per raw path; past this many distinct
    /// method, route and status triples, new ones are counted together as `other`.
    private static let routeLimit = 2_000
    static let durationBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
    ]

    private let enrollments: Counter
    private let revocations: Counter
    private let accessTokens: Counter
    private let renewals: Counter
    private let rotations: Counter
    /// Made once: they count on the hottest routes (`POST /v1/authorize`, `POST /v1/telemetry`).
    private let allowed: Counter
    private let denied: Counter
    private let telemetryOutcomes: [String: Counter]
    /// Totals kept elsewhere (monitoring), last carried into their counters at a scrape.
    private let carried = Mutex<[String: Int]>([:])

    init() {
        enrollments = registry.makeCounter(name: "vouch_enrollments_total", help: "Devices enrolled by this process.")
        revocations = registry.makeCounter(name: "vouch_revocations_total", help: "Devices revoked or decommissioned by operators through this process.")
        accessTokens = registry.makeCounter(name: "vouch_access_tokens_total", help: "Device access tokens issued by this process.")
        renewals = registry.makeCounter(name: "vouch_renewals_total", help: "Certificate renewals by this process.")
        rotations = registry.makeCounter(name: "vouch_rotations_total", help: "Key rotations by this process.")
        let decisionsHelp = "Authorization decisions answered at POST /v1/authorize, by outcome."
        allowed = registry.makeCounter(name: "vouch_authorization_decisions_total", labels: [("decision", "allow")], help: decisionsHelp)
        denied = registry.makeCounter(name: "vouch_authorization_decisions_total", labels: [("decision", "deny")], help: decisionsHelp)
        let telemetryHelp = "Signed telemetry envelopes: accepted, or refused as format, forged, replay, clock or policy."
        let registry = registry
        telemetryOutcomes = Dictionary(uniqueKeysWithValues: (["accepted"] + TelemetryOutcome.Refusal.allCases.map(\.rawValue)).map { outcome in
            (outcome, registry.makeCounter(name: "vouch_telemetry_envelopes_total", labels: [("outcome", outcome)], help: telemetryHelp))
        })
    }

    func enrolled() { enrollments.increment() }
    func revoked() { revocations.increment() }
    func tokenIssued() { accessTokens.increment() }
    func renewed() { renewals.increment() }
    func rotated() { rotations.increment() }

    /// Counts a request to `route` (its pattern, such as `/v1/admin/devices/{id}`) and how long it took.
    func request(method: String, route: String, status: Int, duration: Duration) {
        let key = RouteKey(method: method, route: route, status: status)
        let instruments = routes.withLock { routes -> RouteInstruments in
            if let known = routes[key] { return known }
            let counted = routes.count < Self.routeLimit ? key : RouteKey(method: method, route: "other", status: status)
            if let known = routes[counted] { return known }
            let made = RouteInstruments(
                requests: registry.makeCounter(
                    name: "vouch_http_requests_total", labels: [("method", method), ("route", counted.route), ("status", String(status))],
                    help: "HTTP requests answered, by method, route pattern and status."),
                duration: registry.makeDurationHistogram(
                    name: "vouch_http_request_duration_seconds", labels: [("method", method), ("route", counted.route), ("status", String(status))],
                    buckets: Self.durationBuckets, help: "Time from a request's head to its answer, by method, route pattern and status."))
            routes[counted] = made
            return made
        }
        instruments.requests.increment()
        instruments.duration.record(duration)
    }

    /// Counts an authorization decision.
    func decided(_ decision: String) {
        (decision == "allow" ? allowed : denied).increment()
    }

    /// Counts a batch's telemetry envelopes by outcome.
    func telemetry(_ outcomes: [TelemetryOutcome]) {
        var counts: [String: Int64] = [:]
        for outcome in outcomes { counts[outcome.refusal?.rawValue ?? "accepted", default: 0] += 1 }
        for (outcome, count) in counts { telemetryOutcomes[outcome]?.increment(by: count) }
    }

    /// What is read at each scrape.
    struct Snapshot {
        var devicesByState: [DeviceState: Int]
        var lastEvent: Int
        var logSize: Int
        var responsesPending: Int
        var monitoredDevices: Int
        var evictedDevices: Int
        var signalsRaised: [String: Int]
        var responsesOrdered: [String: Int]
    }

    /// The exposition, with what the caller read for this scrape.
    func render(_ snapshot: Snapshot) -> [UInt8] {
        for (state, count) in snapshot.devicesByState {
            registry.makeGauge(name: "vouch_devices", labels: [("state", state.rawValue)], help: "Devices by lifecycle state.").set(Int64(count))
        }
        registry.makeGauge(name: "vouch_events_last_sequence", help: "Sequence number of the newest event.").set(Int64(snapshot.lastEvent))
        registry.makeGauge(name: "vouch_log_entries", help: "Entries in the transparency log's latest checkpoint.").set(Int64(snapshot.logSize))
        registry.makeGauge(
            name: "vouch_log_sequencer_lag", help: "Events recorded and not yet in a published checkpoint of the transparency log."
        ).set(Int64(max(0, snapshot.lastEvent - snapshot.logSize)))
        registry.makeGauge(name: "vouch_responses_pending", help: "Automated responses ordered and not yet carried out.").set(Int64(snapshot.responsesPending))
        registry.makeGauge(
            name: "vouch_monitored_devices",
            help: "Devices monitoring holds state for in this process (at most --monitor-limit; revoked and decommissioned ones are dropped first)."
        ).set(Int64(snapshot.monitoredDevices))
        carry("evicted", snapshot.evictedDevices) {
            registry.makeCounter(
                name: "vouch_monitored_devices_evicted_total", help: "Devices monitoring dropped, seen longest ago, to stay within --monitor-limit.")
        }
        for (kind, count) in snapshot.signalsRaised {
            carry("signal " + kind, count) {
                registry.makeCounter(name: "vouch_signals_total", labels: [("kind", kind)], help: "Signals monitoring raised against devices, by kind.")
            }
        }
        for (action, count) in snapshot.responsesOrdered {
            carry("response " + action, count) {
                registry.makeCounter(
                    name: "vouch_responses_total", labels: [("action", action)], help: "Automated responses the rules ordered, by action.")
            }
        }
        return registry.emitToBuffer()
    }

    /// Carries a total kept elsewhere into its counter: what it grew by since the last scrape.
    private func carry(_ name: String, _ total: Int, _ counter: () -> Counter) {
        let grown = carried.withLock { carried -> Int in
            defer { carried[name] = total }
            return total - (carried[name] ?? 0)
        }
        let made = counter()
        if grown > 0 { made.increment(by: Int64(grown)) }
    }
}
