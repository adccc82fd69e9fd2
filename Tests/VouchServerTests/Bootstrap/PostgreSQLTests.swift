import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SwiftASN1
import Testing
import VouchCore
import VouchAPI
import VouchKit
import VouchStore
import Logging
import X509

/// The authority on a real PostgreSQL server (started by the test) and on SQLite, through the same
/// queries: enrollment, concurrent writers on counters and token uses, revocation seen at once,
/// rotation, a gap-free event sequence, and a restart that keeps everything.
@Suite(
    "database engines",
    .enabled(if: postgresBinaries != nil || ProcessInfo.processInfo.environment["CI"] != nil, "needs PostgreSQL (CI installs it)")
)
struct DatabaseEngineTests {
    enum Engine: String, CaseIterable, CustomTestStringConvertible {
        case sqlite, postgresql
        var testDescription: String { rawValue }
    }

    /// Runs `body` with the database URL of `engine` (nil for SQLite in the data directory).
    func withEngine<T>(_ engine: Engine, _ body: (String?) async throws -> T) async throws -> T {
        switch engine {
        case .sqlite: try await body(nil)
        case .postgresql: try await withPostgres { try await body($0) }
        }
    }

    /// The transparency log's storage: nodes appended through the frontier in batches, read back
    /// for roots, proofs and tiles, and checkpoints that never take a size twice.
    @Test(arguments: Engine.allCases)
    func theLogStoresItsTreeOn(_ engine: Engine) async throws {
        try await withEngine(engine) { databaseURL in
            try await withDataDirectory { dir in
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                let database = try await VouchDatabase.open(url: databaseURL, dataDirectory: dir, logger: Logger(label: "test"))
                do {
                    _ = try await Migrations.run(on: database, now: 0)
                    let store = Store(database: database)
                    var tree = MerkleTree()
                    var frontier = MerkleFrontier()
                    for batch in 0..<5 {
                        var nodes: [(node: MerkleNode, hash: MerkleHash)] = []
                        for entry in 0..<(batch == 0 ? 1 : 211) {
                            let leaf = MerkleHash.leafHash(Array("batch \(batch) entry \(entry)".utf8))
                            tree.append(leafHash: leaf)
                            nodes += frontier.append(leafHash: leaf)
                        }
                        let (size, root) = (frontier.size, frontier.root)
                        let batchNodes = nodes
                        try await store.transaction { session in
                            try await session.log.insertNodes(batchNodes)
                            try await session.log.insertCheckpoint(size: size, root: root, note: "note \(size)", at: batch)
                        }
                    }
                    let size = frontier.size
                    #expect(size == 845)
                    let latest = try #require(try await store.read { try await $0.log.latestCheckpoint() })
                    let expectedRoot = try tree.rootHash()
                    #expect(latest.size == size)
                    #expect(latest.root == expectedRoot)
                    #expect(latest.note == "note 845")
                    // A checkpoint of a size already published is refused.
                    let duplicate = await #expect(throws: (any Error).self) {
                        try await store.transaction { try await $0.log.insertCheckpoint(size: size, root: latest.root, note: "again", at: 9) }
                    }
                    #expect(duplicate.map(StoreError.isUniqueViolation) == true, "\(String(describing: duplicate))")

                    // Roots and proofs from one batched read of the nodes they name.
                    for (leaf, treeSize) in [(0, 1), (0, 845), (500, 845), (844, 845), (211, 423)] as [(UInt64, UInt64)] {
                        let names = MerkleProofs.inclusionNodes(leafIndex: leaf, treeSize: treeSize)
                        let found = try await store.read { try await $0.log.nodes(names) }
                        #expect(found.count == names.count)
                        let proof = MerkleProofs.inclusionProof(leafIndex: leaf, treeSize: treeSize) { found[$0]! }
                        #expect(proof == (try tree.inclusionProof(leafIndex: leaf, treeSize: treeSize)))
                    }
                    for (old, new) in [(1, 845), (212, 845), (423, 634), (845, 845)] as [(UInt64, UInt64)] {
                        let names = MerkleProofs.consistencyNodes(oldSize: old, newSize: new)
                        let found = try await store.read { try await $0.log.nodes(names) }
                        let proof = MerkleProofs.consistencyProof(oldSize: old, newSize: new) { found[$0]! }
                        #expect(proof == (try tree.consistencyProof(oldSize: old, newSize: new)))
                    }
                    let rootNames = MerkleProofs.rootNodes(size: size)
                    let rootNodes = try await store.read { try await $0.log.nodes(rootNames) }
                    #expect(try MerkleFrontier(size: size, hashes: rootNames.map { rootNodes[$0]! }) == frontier)

                    // A tile is a range of one level: the full first level-0 tile, a partial one, level 8.
                    let firstTile = try await store.read { try await $0.log.nodes(level: 0, from: 0, count: 256) }
                    #expect(firstTile == (0..<256).map { tree.leafHashes[$0] })
                    let partial = try #require(LogTile.current(level: 0, index: 3, treeSize: size))
                    #expect(try await store.read { try await $0.log.nodes(level: 0, from: 768, count: partial.width) }.count == 77)
                    let upper = try await store.read { try await $0.log.nodes(level: 8, from: 0, count: 4) }
                    #expect(upper == (0..<3).map { MerkleHash.root(ofLeafHashes: tree.leafHashes[($0 * 256)..<($0 * 256 + 256)]) })
                    await database.close()
                } catch {
                    await database.close()
                    throw error
                }
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func theAuthorityBehavesTheSameOn(_ engine: Engine) async throws {
        try await withEngine(engine) { databaseURL in
            try await withDataDirectory { dir in
                let (revokedID, rotatedID) = try await withServer(dataDirectory: dir, databaseURL: databaseURL) { client, admin in
                    // Racing creations of one group name: one wins, the others get 409, never a 5xx
                    // (whether the check or the database's unique index catches them).
                    let creations = try await withThrowingTaskGroup(of: Int.self) { group in
                        for _ in 0..<8 {
                            group.addTask { try await client.vouch(.apiKey(admin)).exchange("POST", "/v1/admin/groups", body: .json(GroupRequest(name: "raced"))).status }
                        }
                        return try await group.reduce(into: [Int]()) { $0.append($1) }
                    }
                    #expect(creations.sorted() == [201] + Array(repeating: 409, count: 7), "\(creations)")

                    // Concurrent enrollments against a group with 10 token uses: exactly 10 win, the
                    // others are told the token is used up, and no counter skips or repeats.
                    let token = try #require(try await client.createGroup("limited", apiKey: admin, extra: ["tokenUses": 10]))
                    let outcomes = try await withThrowingTaskGroup(of: (Int, JSONValue).self) { group in
                        for _ in 0..<16 {
                            group.addTask {
                                let device = DeviceAgent()
                                let body = try await device.enrollmentBody(nonce: try await client.nonce(), group: "limited", token: token)
                                let result = try await client.call(.post, "/v1/enrollments", json: body)
                                return (result.status, result.json)
                            }
                        }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    #expect(outcomes.filter { $0.0 == 201 }.count == 10, "\(outcomes.map(\.0))")
                    #expect(outcomes.filter { $0.0 == 401 }.allSatisfy { $0.1["detail"]?.stringValue?.contains("no uses left") == true })
                    let indexes = try outcomes.filter { $0.0 == 201 }.map { outcome in
                        let identity = try CompactJWS(parsing: outcome.1["identityCredential"]?.stringValue ?? "")
                        return try JSONValue(parsing: identity.payload)["credentialStatus"]?.arrayValue.first?["statusListIndex"]?.stringValue ?? ""
                    }
                    #expect(Set(indexes).count == 10)

                    // Revocation is visible at once in CRL, OCSP and the status list.
                    let (revokedID, answer) = try await RevocationTests.enroll(client, admin: admin)
                    let certificate = try Certificate(pemEncoded: try #require(answer["certificate"]?.stringValue))
                    #expect(try await client.vouch(.apiKey(admin)).act(.revoke, on: revokedID, reason: "key-compromise").device.state == "revoked")
                    let intermediate = try Certificate(pemEncoded: try await client.call(.get, "/v1/pki/intermediate.pem").text)
                    #expect(try await RevocationTests.crl(client, issuer: intermediate).lists(certificate))
                    let ocsp = try await client.call(
                        .post, "/v1/pki/ocsp", headers: [.contentType: "application/ocsp-request"],
                        body: try OCSPClient.request(serial: certificate.serialNumber, issuer: intermediate))
                    guard case .revoked = try OCSPClient.unverifiedStatuses(in: Array(ocsp.body)).first?.status else {
                        Issue.record("OCSP does not answer revoked on \(engine)")
                        return (revokedID, "")
                    }

                    // Rotation: one transaction over device, certificates, status bits and events.
                    let device = DeviceAgent()
                    let (rotatedID, _) = try await RevocationTests.enroll(client, admin: admin, group: "rotating", device: device)
                    let replacement = DeviceAgent()
                    let nonce = try #require(try await client.call(.post, "/v1/auth/challenge").json["nonce"]?.stringValue)
                    let payload = DeviceProof(nonce: nonce, deviceId: rotatedID, purpose: .rotate, newKeyThumbprint: replacement.key.publicKey.thumbprint)
                    let rotated = try await client.vouch().rotate(
                        RotationRequest(
                            nonce: nonce, csr: try replacement.certificateSigningRequestPEM(), proof: try await payload.sign(with: replacement.key),
                            previousKeyProof: try await payload.sign(with: device.key)))
                    #expect(rotated.did == replacement.did.description)
                    return (revokedID, rotatedID)
                }

                // A restart on the same database and data directory keeps every record.
                try await withServer(dataDirectory: dir, databaseURL: databaseURL) { client, admin in
                    #expect(try await client.call(.get, "/v1/admin/devices/\(revokedID)", apiKey: admin).json["device"]?["state"]?.stringValue == "revoked")
                    let rotated = try await client.call(.get, "/v1/admin/devices/\(rotatedID)", apiKey: admin).json
                    #expect(rotated["device"]?["previousDids"]?.arrayValue.count == 1)
                    #expect(rotated["certificates"]?.arrayValue.compactMap { $0["reason"]?.stringValue } == ["superseded"])
                    let devices = try await client.call(.get, "/v1/admin/devices?limit=100", apiKey: admin).json["devices"]?.arrayValue ?? []
                    #expect(devices.count == 12)
                    let events = try await client.call(.get, "/v1/events?after=0&limit=1000", apiKey: admin).json["events"]?.arrayValue ?? []
                    let sequence = events.compactMap { $0["seq"]?.numberValue.map { Int($0) } }
                    #expect(!sequence.isEmpty && sequence == Array(1...sequence.count))
                }
            }
        }
    }

    /// Two nodes on one PostgreSQL database: a revocation made through one shows on the very next
    /// CRL, OCSP and status-list request to the other, which had loaded its revocation state before.
    @Test func aRevocationOnOneNodeShowsOnTheOtherAtOnce() async throws {
        try await withPostgres { url in
            try await withDataDirectory { dir in
                try await withServer(dataDirectory: dir, databaseURL: url) { first, admin in
                    try await withServer(dataDirectory: dir, databaseURL: url) { second, _ in
                        let token = try await RevocationStateTests.fleet(first, admin: admin)
                        let (id, certificate) = try await RevocationStateTests.enroll(first, token: token)
                        let intermediate = try Certificate(pemEncoded: try await second.call(.get, "/v1/pki/intermediate.pem").text)
                        #expect(!(try await RevocationTests.crl(second, issuer: intermediate).lists(certificate)))
                        guard case .good = try await RevocationTests.ocspStatus(second, of: certificate, issuer: intermediate) else {
                            Issue.record("the other node does not answer good for a new certificate")
                            return
                        }
                        let listBefore = try await second.call(.get, "/v1/status-lists/revocation-0").text
                        #expect(try await first.vouch(.apiKey(admin)).act(.revoke, on: id, reason: "key-compromise").device.state == "revoked")
                        #expect(try await RevocationTests.crl(second, issuer: intermediate).lists(certificate))
                        guard case .revoked(_, .keyCompromise) = try await RevocationTests.ocspStatus(second, of: certificate, issuer: intermediate) else {
                            Issue.record("the other node does not answer revoked on the next request")
                            return
                        }
                        #expect(try await second.call(.get, "/v1/status-lists/revocation-0").text != listBefore)
                    }
                }
            }
        }
    }

    /// Several nodes starting at once on one empty PostgreSQL database: each migration is applied
    /// once, and every node starts.
    @Test func concurrentStartsMigrateOnce() async throws {
        try await withPostgres { url in
            let logger = Logger(label: "vouch-test")
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let database = try await VouchDatabase.open(url: url, dataDirectory: "/nonexistent", logger: logger)
                        do {
                            let applied = try await Migrations.run(on: database, now: 0)
                            await database.close()
                            return applied
                        } catch {
                            await database.close()
                            throw error
                        }
                    }
                }
                return try await group.reduce(into: [[String]]()) { $0.append($1) }
            }
            #expect(applied.flatMap { $0 }.sorted() == Migrations.all.map(\.name), "\(applied)")
        }
    }
}
