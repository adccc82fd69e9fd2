import Foundation
import VouchAPI
import VouchCore
import VouchKit
import VouchStore

// The admin API's views, made from the store's records and the monitor's state.

extension DeviceView {
    init(_ row: DeviceRecord) {
        self.init(
            id: row.id, group: row.groupId, zone: row.zone, state: row.state.rawValue, did: row.did, keyThumbprint: row.keyThumbprint,
            attributes: row.attributes, roles: row.roles, previousDids: row.previousDids,
            legalActions: DeviceLifecycle.legalActions(from: row.state).map(\.rawValue), createdAt: row.createdAt, updatedAt: row.updatedAt)
    }
}

extension GroupView {
    init(_ row: GroupRecord) {
        self.init(
            id: row.id, name: row.name, disabled: row.disabled, tokenUsesLeft: row.tokenUsesLeft, rules: row.rules, createdAt: row.createdAt,
            updatedAt: row.updatedAt)
    }
}

extension FirmwareView {
    init(_ row: FirmwareRecord) {
        self.init(sha256: row.digest, model: row.model, version: row.version, status: row.status, createdAt: row.createdAt, updatedAt: row.updatedAt)
    }
}

extension ActivityView {
    /// Counts per metric over 1 minute, 5 minutes and 1 hour, with the mean message size.
    init(_ state: FleetMonitor.Activity?) {
        var metrics: [String: [String: Int]] = [:]
        if let windows = state?.windows {
            for metric in DeviceMetric.allCases where windows.lastHour(metric) > 0 {
                metrics[metric.description] = ["1m": windows.lastMinute(metric), "5m": windows.lastFiveMinutes(metric), "1h": windows.lastHour(metric)]
            }
            // The mean message size (bytes per accepted message) over the same windows.
            if let messages = metrics[DeviceMetric.messages.description], let bytes = metrics[DeviceMetric.bytes.description] {
                metrics["message_size"] = bytes.reduce(into: [:]) { sizes, window in
                    let count = messages[window.key] ?? 0
                    sizes[window.key] = count == 0 ? 0 : window.value / count
                }
            }
        }
        let addresses = (state?.addresses.keys.map(\.description) ?? []).sorted()
        self.init(metrics: metrics, sourceAddresses: addresses, distinctSourceAddresses: addresses.count)
    }
}
