import Foundation
import Testing
import VouchCore
import VouchKit
import VouchStore

extension RepositoryConformance {
    static func rules(zone: String = "lab") -> EnrollmentRules {
        var rules = EnrollmentRules()
        rules.defaultZone = zone
        rules.defaultRoles = ["sensor"]
        rules.requiredAttributes = ["model"]
        rules.tokenUses = 2
        return rules
    }

    func groups() async throws {
        let group = GroupRecord(
            id: "grp_1", name: "factory", tokenHash: "token-hash", tokenUsesLeft: 2, rules: Self.rules(), disabled: false, createdAt: 1, updatedAt: 1)
        try await store.transaction { try await $0.groups.insert(group) }
        #expect(try await store.read { try await $0.groups.find(id: "grp_1") } == group)
        #expect(try await store.read { try await $0.groups.find(name: "factory") } == group)
        #expect(try await store.read { try await $0.groups.find(name: "nope") } == nil)
        // The rules come back as they went in, and the event form of them is their JSON.
        let settings = try group.settings()
        #expect(settings["defaultZone"] == "lab" && settings["defaultRoles"] == ["sensor"])
        // Token uses are taken one at a time, and none past zero.
        #expect(try await store.write { try await $0.groups.takeTokenUse(groupID: "grp_1") })
        #expect(try await store.write { try await $0.groups.takeTokenUse(groupID: "grp_1") })
        #expect(try await store.write { try await $0.groups.takeTokenUse(groupID: "grp_1") } == false)
        var changed = try #require(try await store.read { try await $0.groups.find(id: "grp_1") })
        #expect(changed.tokenUsesLeft == 0)
        changed.rules = Self.rules(zone: "plant")
        changed.disabled = true
        changed.tokenHash = nil
        changed.tokenUsesLeft = nil
        changed.updatedAt = 9
        let update = changed
        try await store.transaction { try await $0.groups.update(update) }
        #expect(try await store.read { try await $0.groups.find(id: "grp_1") } == changed)
        // No uses left to take from an unlimited token (nil): the caller does not ask.
        #expect(try await store.write { try await $0.groups.takeTokenUse(groupID: "grp_1") } == false)
        let other = GroupRecord(id: "grp_0", name: "alpha", tokenHash: nil, tokenUsesLeft: nil, rules: EnrollmentRules(), disabled: false, createdAt: 2, updatedAt: 2)
        try await store.transaction { try await $0.groups.insert(other) }
        #expect(try await store.read { try await $0.groups.all() }.map(\.name) == ["alpha", "factory"])
    }

    static func device(_ id: String, state: DeviceState = .active, zone: String = "lab", key: SigningKey = .generate()) -> DeviceRecord {
        DeviceRecord(
            id: id, groupId: "grp_1", zone: zone, state: state, did: DID(key: key.publicKey).description, keyThumbprint: key.publicKey.thumbprint,
            publicKey: key.publicKey.jwk, attributes: ["model": "m1", "site": "a\"b/c"], roles: ["sensor", "relay"], previousDids: [],
            createdAt: 100, updatedAt: 100)
    }

    func devices() async throws {
        let devices = [Self.device("dev_1"), Self.device("dev_2", state: .pending), Self.device("dev_3", zone: "plant")]
        try await store.transaction { try await $0.devices.insert(devices) }
        for device in devices {
            #expect(try await store.read { try await $0.devices.find(id: device.id) } == device)
            #expect(try await store.read { try await $0.devices.find(did: device.did) } == device)
            #expect(try await store.read { try await $0.devices.find(keyThumbprint: device.keyThumbprint) } == device)
        }
        #expect(try await store.transaction { try await $0.devices.find(id: "dev_1", forUpdate: true) } == devices[0])
        #expect(try await store.read { try await $0.devices.find(id: "dev_9") } == nil)
        let ids = try await store.read { try await $0.devices.ids(keyThumbprints: devices.map(\.keyThumbprint) + ["unknown"]) }
        #expect(ids == Dictionary(uniqueKeysWithValues: devices.map { ($0.keyThumbprint, $0.id) }))
        // Every typed field survives an update.
        var rotated = devices[0]
        let newKey = SigningKey.generate(.p256)
        rotated.previousDids = [rotated.did]
        rotated.did = DID(key: newKey.publicKey).description
        rotated.publicKey = newKey.publicKey.jwk
        rotated.keyThumbprint = newKey.publicKey.thumbprint
        rotated.state = .quarantined
        rotated.zone = "quarantine"
        rotated.attributes = ["model": "m2"]
        rotated.roles = []
        rotated.updatedAt = 200
        let update = rotated
        try await store.transaction { try await $0.devices.update(update) }
        #expect(try await store.read { try await $0.devices.find(id: "dev_1") } == rotated)
        // Filters and the cursor.
        #expect(try await store.read { try await $0.devices.list(state: nil, groupID: nil, zone: nil, after: nil, limit: 10) }.map(\.id) == ["dev_1", "dev_2", "dev_3"])
        #expect(try await store.read { try await $0.devices.list(state: .pending, groupID: nil, zone: nil, after: nil, limit: 10) }.map(\.id) == ["dev_2"])
        #expect(try await store.read { try await $0.devices.list(state: nil, groupID: "grp_1", zone: "plant", after: nil, limit: 10) }.map(\.id) == ["dev_3"])
        #expect(try await store.read { try await $0.devices.list(state: nil, groupID: nil, zone: nil, after: "dev_1", limit: 1) }.map(\.id) == ["dev_2"])
        #expect(try await store.read { try await $0.devices.list(state: nil, groupID: "grp_0", zone: nil, after: nil, limit: 10) }.isEmpty)
        #expect(try await store.read { try await $0.devices.countsByState() } == [.quarantined: 1, .pending: 1, .active: 1])
        // A factory certificate vouches for the devices that still stand.
        try await store.transaction { session in
            try await session.devices.recordFactoryCertificate(deviceID: "dev_2", fingerprint: "fp", at: 1)
            try await session.devices.recordFactoryCertificate(deviceID: "dev_3", fingerprint: "fp", at: 1)
        }
        #expect(try await store.read { try await $0.devices.standing(factoryCertificate: "fp") } == 2)
        var revoked = devices[2]
        revoked.state = .revoked
        let revocation = revoked
        try await store.transaction { try await $0.devices.update(revocation) }
        #expect(try await store.read { try await $0.devices.standing(factoryCertificate: "fp") } == 1)
        #expect(try await store.read { try await $0.devices.factoryCertificate(deviceID: "dev_2") } == "fp")
        #expect(try await store.read { try await $0.devices.factoryCertificate(deviceID: "dev_1") } == nil)
        // A key enrolled twice is refused by the unique thumbprint.
        var twin = Self.device("dev_4")
        twin.keyThumbprint = devices[1].keyThumbprint
        let twinRecord = twin
        let duplicate = await #expect(throws: (any Error).self) { try await store.transaction { try await $0.devices.insert([twinRecord]) } }
        #expect(duplicate.map(StoreError.isUniqueViolation) == true, "\(String(describing: duplicate))")
    }

    func stepUps() async throws {
        #expect(try await store.read { try await $0.stepUps.find(deviceID: "dev_1") } == nil)
        try await store.transaction { try await $0.stepUps.require(deviceID: "dev_1", at: 50, cause: "rule: drift") }
        // Asked again, the first request stands.
        try await store.transaction { try await $0.stepUps.require(deviceID: "dev_1", at: 60, cause: "rule: other") }
        #expect(try await store.read { try await $0.stepUps.find(deviceID: "dev_1") } == StepUpRecord(deviceId: "dev_1", requiredAt: 50, cause: "rule: drift"))
        try await store.transaction { try await $0.stepUps.clear(deviceID: "dev_1") }
        #expect(try await store.read { try await $0.stepUps.find(deviceID: "dev_1") } == nil)
    }
}
