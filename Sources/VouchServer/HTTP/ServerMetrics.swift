import Synchronization
import VouchCore

/// Counters exposed at `/metrics` in the Prometheus text format.
final class ServerMetrics: Sendable {
    private struct Counts {
        var responses: [Int: Int] = [:]
        var enrollments = 0
        var revocations = 0
        var accessTokens = 0
        var renewals = 0
        var rotations = 0
    }

    private let counts = Mutex(Counts())

    func count(status: Int) { counts.withLock { $0.responses[status, default: 0] += 1 } }
    func enrolled() { counts.withLock { $0.enrollments += 1 } }
    func revoked() { counts.withLock { $0.revocations += 1 } }
    func tokenIssued() { counts.withLock { $0.accessTokens += 1 } }
    func renewed() { counts.withLock { $0.renewals += 1 } }
    func rotated() { counts.withLock { $0.rotations += 1 } }

    /// The exposition, with device counts by state read by the caller.
    func render(devicesByState: [DeviceState: Int], lastEvent: Int, responsesPending: Int, monitoredDevices: Int, evictedDevices: Int) -> String {
        let snapshot = counts.withLock { $0 }
        var out = "# HELP vouch_http_responses_total HTTP responses by status code.\n# TYPE vouch_http_responses_total counter\n"
        for (status, count) in snapshot.responses.sorted(by: { $0.key < $1.key }) {
            out += "vouch_http_responses_total{status=\"\(status)\"} \(count)\n"
        }
        out += "# HELP vouch_enrollments_total Devices enrolled by this process.\n# TYPE vouch_enrollments_total counter\n"
        out += "vouch_enrollments_total \(snapshot.enrollments)\n"
        out += "# HELP vouch_revocations_total Devices revoked or decommissioned by this process.\n# TYPE vouch_revocations_total counter\n"
        out += "vouch_revocations_total \(snapshot.revocations)\n"
        out += "# HELP vouch_access_tokens_total Device access tokens issued by this process.\n# TYPE vouch_access_tokens_total counter\n"
        out += "vouch_access_tokens_total \(snapshot.accessTokens)\n"
        out += "# HELP vouch_renewals_total Certificate renewals by this process.\n# TYPE vouch_renewals_total counter\n"
        out += "vouch_renewals_total \(snapshot.renewals)\n"
        out += "# HELP vouch_rotations_total Key rotations by this process.\n# TYPE vouch_rotations_total counter\n"
        out += "vouch_rotations_total \(snapshot.rotations)\n"
        out += "# HELP vouch_devices Devices by lifecycle state.\n# TYPE vouch_devices gauge\n"
        for (state, count) in devicesByState.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            out += "vouch_devices{state=\"\(state.rawValue)\"} \(count)\n"
        }
        out += "# HELP vouch_events_last_sequence Sequence number of the newest event.\n# TYPE vouch_events_last_sequence gauge\n"
        out += "vouch_events_last_sequence \(lastEvent)\n"
        out += "# HELP vouch_responses_pending Automated responses ordered and not yet carried out.\n# TYPE vouch_responses_pending gauge\n"
        out += "vouch_responses_pending \(responsesPending)\n"
        out += "# HELP vouch_monitored_devices Devices monitoring holds state for in this process (at most --monitor-limit; revoked and decommissioned ones are dropped first).\n"
        out += "# TYPE vouch_monitored_devices gauge\n"
        out += "vouch_monitored_devices \(monitoredDevices)\n"
        out += "# HELP vouch_monitored_devices_evicted_total Devices monitoring dropped, seen longest ago, to stay within --monitor-limit.\n"
        out += "# TYPE vouch_monitored_devices_evicted_total counter\n"
        out += "vouch_monitored_devices_evicted_total \(evictedDevices)\n"
        return out
    }
}
