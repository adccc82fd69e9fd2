import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VouchAPI
import VouchKit
@testable import VouchServer

/// The console's other workflows, each carried out through its pages and checked through the API
/// or the receiver: enrollments waiting for approval, a group's edit and new claim token, a
/// webhook delivery sent again, and the event feed's filters.
@Suite("The console's workflows")
struct ConsoleWorkflowTests {
    @Test func enrollmentsWaitingForApprovalAreApprovedOrRefused() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let token = try #require(try await client.createGroup("gated", apiKey: admin, extra: ["tokenUses": 5, "approval": "manual"]))
                let waiting = try await client.enrollDevices(2, group: "gated", token: token)
                var visitor = ConsoleVisitor(client)
                try await visitor.signIn(admin)
                let groups = try await visitor.get("/console/groups")
                for id in waiting {
                    #expect(groups.text.contains("/console/devices/\(id)/approve") && groups.text.contains("/console/devices/\(id)/revoke"))
                }
                // Refusing a waiting device says what it means for a device that has nothing yet.
                let refuse = try await visitor.get("/console/devices/\(waiting[1])/revoke")
                #expect(refuse.text.contains("refuses its enrollment"), "\(refuse.text.prefix(1500))")
                let csrf = try #require(ConsoleVisitor.field("csrf", in: groups.text))
                #expect(try await visitor.post("/console/devices/\(waiting[0])/approve", [("csrf", csrf)]).status == 303)
                #expect(try await visitor.post("/console/devices/\(waiting[1])/revoke", [("csrf", csrf)]).status == 303)
                let approved = try await client.call(.get, "/v1/admin/devices/\(waiting[0])", apiKey: admin).json
                #expect(approved["device"]?["state"]?.stringValue == "active" && approved["certificates"]?.arrayValue.count == 1)
                #expect(try await client.call(.get, "/v1/admin/devices/\(waiting[1])", apiKey: admin).json["device"]?["state"]?.stringValue == "revoked")
                #expect(try await visitor.get("/console/groups").text.contains("No enrollment waits."))
            }
        }
    }

    @Test func aGroupIsEditedAndItsClaimTokenRotatedAndShownOnce() async throws {
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir) { client, admin in
                let old = try #require(try await client.createGroup("line", apiKey: admin, extra: ["tokenUses": 5]))
                let id = try #require(try await client.call(.get, "/v1/admin/groups/line", apiKey: admin).json["id"]?.stringValue)
                var visitor = ConsoleVisitor(client)
                try await visitor.signIn(admin)
                let form = try await visitor.get("/console/groups/\(id)")
                #expect(form.status == 200 && form.text.contains("value=\"5\""))
                let csrf = try #require(ConsoleVisitor.field("csrf", in: form.text))
                let saved = try await visitor.post("/console/groups/\(id)", [
                    ("csrf", csrf), ("zone", "plant"), ("roles", "sensor, camera"), ("uses", "3"), ("approval", "manual"), ("rotate", "yes"),
                ])
                #expect(saved.status == 200)
                let token = try #require(saved.text.range(of: #"id="claim-token" class="secret" readonly value="ct_[^"]+""#, options: .regularExpression)
                    .map { String(saved.text[$0].split(separator: "\"").last!) })
                #expect(token != old)
                let rules = try await client.call(.get, "/v1/admin/groups/line", apiKey: admin).json["rules"]
                #expect(rules?["defaultZone"]?.stringValue == "plant" && rules?["approval"]?.stringValue == "manual")
                #expect(rules?["defaultRoles"]?.arrayValue.compactMap(\.stringValue) == ["sensor", "camera"])
                // The old token is gone, the new one enrolls (and waits for approval now).
                let refused = try await client.call(.post, "/v1/enrollments", json: try await DeviceAgent().enrollmentBody(
                    nonce: try await client.nonce(), group: "line", token: old))
                #expect(refused.status == 401)
                let enrolled = try await client.call(.post, "/v1/enrollments", json: try await DeviceAgent().enrollmentBody(
                    nonce: try await client.nonce(), group: "line", token: token))
                #expect(enrolled.status == 201 || enrolled.status == 202, "\(enrolled.text)")
                // Not shown again.
                #expect(!(try await visitor.get("/console/groups")).text.contains(token))
                let bad = try await visitor.post("/console/groups/\(id)", [("csrf", csrf), ("uses", "-1")])
                #expect(bad.status == 400 && bad.text.contains("token uses must be"))
            }
        }
    }

    @Test func aWebhookDeliveryIsSentAgainFromTheEventsPage() async throws {
        try await WebhookReceiver.with { receiver in
            try await withDataDirectory { dir in
                try await withServer(dataDirectory: dir, webhooks: quickWebhooks()) { client, admin, _ in
                    let (id, _) = try await client.addWebhook(receiver.url("/hook"), kinds: ["group.created"], apiKey: admin)
                    _ = try await client.createGroup("hooked", apiKey: admin)
                    try await receiver.wait("the delivery") { $0.count == 1 }
                    let delivered = try await client.deliveries(id, apiKey: admin) { $0.first?["state"]?.stringValue == "delivered" }
                    let seq = try #require(delivered.first?["seq"]?.intValue)
                    var visitor = ConsoleVisitor(client)
                    try await visitor.signIn(admin)
                    let page = try await visitor.get("/console/events?webhook=\(id)")
                    #expect(page.status == 200 && page.text.contains(receiver.url("/hook")) && page.text.contains("Redeliver \(seq)"))
                    let csrf = try #require(ConsoleVisitor.field("csrf", in: page.text))
                    let sent = try await visitor.post("/console/webhooks/\(id)/deliveries/\(seq)/redeliver", [("csrf", csrf)])
                    #expect(sent.status == 303)
                    try await receiver.wait("the redelivery") { $0.count == 2 }
                    #expect(receiver.requests[1].id == receiver.requests[0].id)

                    // The feed keeps what its filters name, and says what a bad filter is.
                    let groups = try await visitor.get("/console/events?kind=group.*")
                    let kinds = groups.text.components(separatedBy: "<tr data-seq=").dropFirst().map { $0.components(separatedBy: "<td>")[2].prefix { $0 != "<" } }
                    #expect(!kinds.isEmpty && kinds.allSatisfy { $0.hasPrefix("group.") }, "\(kinds)")
                    let bad = try await visitor.get("/console/events?kind=DROP%20TABLE")
                    #expect(bad.status == 400 && bad.text.contains("is not an event kind"))
                }
            }
        }
    }

    /// A witness that missed the latest checkpoint is shown with its last cosignature, read from
    /// the checkpoints before.
    @Test func witnessesAreShownWithTheirLastCosignature() async throws {
        let first = try CosignatureSigner.generate(name: "w1.test")
        let second = try CosignatureSigner.generate(name: "w2.test")
        try await withDataDirectory { dir in
            try await withServer(dataDirectory: dir, witnesses: [first.verifier.verifierKey, second.verifier.verifierKey], witnessQuorum: 1) {
                client, admin, _ in
                func pending() async throws -> SignedNote {
                    var answer = try await client.call(.get, "/v1/log/pending")
                    let deadline = ContinuousClock.now + .seconds(30)
                    while answer.status != 200, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(20))
                        answer = try await client.call(.get, "/v1/log/pending")
                    }
                    return try SignedNote(parsing: answer.text)
                }
                func published(_ size: UInt64) async throws {
                    let deadline = ContinuousClock.now + .seconds(30)
                    while ContinuousClock.now < deadline {
                        let answer = try await client.call(.get, "/v1/log/checkpoint")
                        if answer.status == 200, let note = try? SignedNote(parsing: answer.text), note.text.split(separator: "\n")[1] == Substring(String(size)) { return }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    Issue.record("no checkpoint of size \(size) was published")
                }
                let now = UInt64(Date().timeIntervalSince1970)
                _ = try await client.createGroup("one", apiKey: admin)
                let firstNote = try await pending()
                #expect(try await client.call(.post, "/v1/log/cosignatures", body: Array(try first.cosign(firstNote, time: now - 60).serialized.utf8)).status == 200)
                try await published(UInt64(firstNote.text.split(separator: "\n")[1])!)
                _ = try await client.createGroup("two", apiKey: admin)
                var secondNote = try await pending()
                while secondNote.text == firstNote.text { secondNote = try await pending() }
                #expect(try await client.call(.post, "/v1/log/cosignatures", body: Array(try second.cosign(secondNote, time: now).serialized.utf8)).status == 200)
                try await published(UInt64(secondNote.text.split(separator: "\n")[1])!)

                var visitor = ConsoleVisitor(client)
                try await visitor.signIn(admin)
                let page = try await visitor.get("/console/log")
                #expect(page.status == 200)
                let rows = page.text.components(separatedBy: "<tr><td>w").dropFirst().map { "w" + $0.prefix { $0 != "\n" } }
                let w1 = try #require(rows.first { $0.hasPrefix("w1.test") }, "\(rows)")
                let w2 = try #require(rows.first { $0.hasPrefix("w2.test") }, "\(rows)")
                #expect(w1.contains("<td>no</td>") && w1.contains(ConsoleFormat.time(Int(now - 60))), "\(w1)")
                #expect(w2.contains("<td>yes</td>") && w2.contains(ConsoleFormat.time(Int(now))), "\(w2)")
            }
        }
    }
}
