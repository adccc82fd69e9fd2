import Foundation
import Testing
import VouchCore
import VouchKit
import VouchStore

/// A page of `GET /v1/admin/devices` must cost the same in a fleet of any size: SQLite reads each
/// filter, and each pair of filters but group with zone, from an index in id order, and never
/// sorts the matches (which would read every one of them before the first page).
@Suite("Device pages")
struct DevicePageTests {
    @Test func everyFilterIsReadFromAnIndexInIDOrder() async throws {
        try await StoreEngine.sqlite.withStore { store in
            for id in ["grp_1", "grp_2"] {
                let group = GroupRecord(
                    id: id, name: "fleet-\(id)", tokenHash: nil, tokenUsesLeft: nil, rules: EnrollmentRules(), disabled: false, createdAt: 1, updatedAt: 1)
                try await store.transaction { try await $0.groups.insert(group) }
            }
            let states: [DeviceState] = [.active, .active, .active, .suspended, .revoked]
            let devices = (0..<40).map { index in
                var device = RepositoryConformance.device(String(format: "dev_%03d", index), state: states[index % states.count], zone: "zone-\(index % 4)")
                device.groupId = index % 3 == 0 ? "grp_2" : "grp_1"
                return device
            }
            try await store.transaction { try await $0.devices.insert(devices) }

            let cases: [(state: DeviceState?, group: String?, zone: String?, index: String)] = [
                (nil, nil, nil, "sqlite_autoindex_devices_1"),
                (.revoked, nil, nil, "devices_by_state"),
                (nil, "grp_1", nil, "devices_by_group"),
                (nil, nil, "zone-2", "devices_by_zone"),
                (.suspended, "grp_1", nil, "devices_by_group_state"),
                (.revoked, nil, "zone-3", "devices_by_zone_state"),
            ]
            for (state, groupID, zone, index) in cases {
                for after in [nil, "dev_017"] {
                    let plan = try await store.read { try await $0.devices.listPlan(state: state, groupID: groupID, zone: zone, after: after) }
                    let described = "state \(state?.rawValue ?? "-"), group \(groupID ?? "-"), zone \(zone ?? "-"), after \(after ?? "-"): \(plan)"
                    #expect(plan.contains { $0.contains("USING INDEX \(index)") || $0.contains("USING COVERING INDEX \(index)") }, "\(described)")
                    #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "the matches are sorted: \(described)")
                    // And the page is the right one.
                    let page = try await store.read {
                        try await $0.devices.list(state: state, groupID: groupID, zone: zone, after: after, limit: 5)
                    }
                    let expected = devices.filter { device in
                        (state == nil || device.state == state) && (groupID == nil || device.groupId == groupID) && (zone == nil || device.zone == zone)
                            && (after.map { device.id > $0 } ?? true)
                    }.prefix(5).map(\.id)
                    #expect(page.map(\.id) == Array(expected), "\(described)")
                }
            }
        }
    }
}
