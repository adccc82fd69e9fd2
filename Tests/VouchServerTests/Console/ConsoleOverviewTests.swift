import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VouchAPI
import VouchCore
import VouchKit
import VouchStore
@testable import VouchServer

@Suite("The console's overview")
struct ConsoleOverviewTests {
    /// Enrollments are counted in their hour, what monitoring raised stays open until an operator
    /// acts on the device, and what monitoring did itself (an automatic quarantine) opens one too.
    @Test func alertsStayOpenUntilAnOperatorActsAndEnrollmentsAreCounted() async throws {
        try await withDataDirectory { dir in
            try await withServices(dataDirectory: dir) { services, client, admin in
                let token = try #require(try await client.createGroup("line", apiKey: admin, extra: ["tokenUses": 10]))
                let ids = try await client.enrollDevices(3, group: "line", token: token)
                var visitor = ConsoleVisitor(client)
                try await visitor.signIn(admin)
                // Overviews asked for at once each count every enrollment once.
                let cookies = visitor.cookies
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<12 {
                        group.addTask {
                            var other = ConsoleVisitor(client)
                            other.cookies = cookies
                            return try await other.get("/console").status
                        }
                    }
                    for try await status in group { #expect(status == 200) }
                }
                let first = try await visitor.get("/console")
                #expect(first.text.contains("(3 enrollments in all)"), "\(first.text.prefix(2000))")
                #expect(first.text.contains("data-count=\"active\">3<"))
                #expect(first.text.contains("No open alerts."))

                // Monitoring alerts about one device and quarantines another on its own.
                let cause: [String: JSONValue] = [
                    "rule": .string("noisy"), "condition": .string("score < 60"), "score": .number(42), "trigger": .string("score"),
                    "signals": .array([.string("message-rate")]), "action": .string("alert"),
                ]
                let alerted = ids[0]
                try await services.store.transaction { session in
                    try await services.events.record(session, kind: .monitorAlert, subject: alerted, actor: "monitor:noisy", data: cause)
                }
                _ = try await services.lifecycle.apply(.quarantine, to: ids[1], reason: nil, actor: "monitor:contain", cause: cause)
                let raised = try await visitor.get("/console")
                #expect(raised.text.contains("Open alerts <span class=\"muted\">(2)</span>"), "\(raised.text.prefix(3000))")
                #expect(raised.text.contains("rule noisy: score 42, signals message-rate"))
                #expect(raised.text.contains("href=\"/console/devices/\(ids[0])\"") && raised.text.contains("href=\"/console/devices/\(ids[1])\""))
                let page = try await visitor.get("/console/devices/\(ids[0])")
                #expect(page.text.contains("Open alert: monitor.alert"))

                // An operator acts on each (through the API or the console): both close.
                _ = try await client.call(.post, "/v1/admin/devices/\(ids[1])/release", apiKey: admin)
                let csrf = try #require(ConsoleVisitor.field("csrf", in: page.text))
                #expect(try await visitor.post("/console/devices/\(ids[0])/suspend", [("csrf", csrf)]).status == 303)
                let answered = try await visitor.get("/console")
                #expect(answered.text.contains("No open alerts."), "\(answered.text.prefix(3000))")
                #expect(answered.text.contains("data-count=\"suspended\">1<") && answered.text.contains("data-count=\"active\">2<"))
            }
        }
    }

    @Test func aLineDiffShowsWhatWasRemovedAndAddedAndRefusesWhatWouldTakeTooLong() throws {
        let diff = try LineDiff(old: "a\nb\nc\nd", new: "a\nc\nx\nd")
        #expect(diff.lines.map { "\($0.change.rawValue)\($0.text)" } == [" a", "-b", " c", "+x", " d"])
        #expect(diff.changed)
        #expect(try !LineDiff(old: "same\ntext", new: "same\ntext").changed)
        // Long shared heads and tails cost nothing; a long differing middle is refused.
        let shared = Array(repeating: "same", count: 50_000).joined(separator: "\n")
        #expect(try LineDiff(old: shared + "\nold\n" + shared, new: shared + "\nnew\n" + shared).lines.filter { $0.change != .same }.map(\.text) == ["old", "new"])
        let many = (0..<3_000).map { "a\($0)" }.joined(separator: "\n")
        let other = (0..<3_000).map { "b\($0)" }.joined(separator: "\n")
        #expect(throws: ServiceError.self) { try LineDiff(old: many, new: other) }
    }

    @Test func chartsEscapeTheirLabelsAndCarryTheirNumbersAsText() {
        let chart = ConsoleChart(
            title: "Devices by zone", category: "zone",
            bars: [.init(label: "<b>line-3</b>", value: 7, link: "/console/devices?zone=%3Cb%3E"), .init(label: "plant", value: 0)], unit: "devices")
        let html = chart.html
        #expect(!html.contains("<b>") && html.contains("&lt;b&gt;line-3&lt;/b&gt;"))
        #expect(html.contains("aria-label=\"Devices by zone: &lt;b&gt;line-3&lt;/b&gt; 7, plant 0 (7 devices in all)\""))
        #expect(html.contains("<td>7</td>") && html.contains("<td>0</td>"))
        // The picture's links stay out of the tab order; the table's are the ones to reach.
        #expect(html.contains("tabindex=\"-1\" aria-hidden=\"true\"") && html.contains("<td><a href=\"/console/devices?zone=%3Cb%3E\">"))
    }

    /// The score filter lists the watched devices whose score is in the range, and the overview's
    /// bands link to exactly their devices.
    @Test func devicesAreListedByTrustScoreRange() async throws {
        try await withDataDirectory { dir in
            try await withServices(dataDirectory: dir) { services, client, admin in
                let token = try #require(try await client.createGroup("line", apiKey: admin, extra: ["tokenUses": 10]))
                var ids = try await client.enrollDevices(3, group: "line", token: token)
                ids.sort()
                // The first two are watched; the first is caught forging a signature (weight 60: score 40).
                for id in ids.prefix(2) {
                    let entry = try #require(try await services.directory.entry(id))
                    services.monitoring.observe(.counting(.messages), of: entry)
                }
                let forger = try #require(try await services.directory.entry(ids[0]))
                services.monitoring.raise(.signatureForged, detail: "a forged envelope", counting: .signatureFailures, of: forger)
                #expect(services.monitoring.trustReport(of: ids[0]).score == 40)

                var visitor = ConsoleVisitor(client)
                try await visitor.signIn(admin)
                func listed(_ query: String) async throws -> [String] {
                    let page = try await visitor.get("/console/devices?" + query)
                    #expect(page.status == 200, "\(query): \(page.status)")
                    return page.listedDevices
                }
                #expect(try await listed("score=40-49") == [ids[0]])
                #expect(try await listed("score=45") == [ids[0]])
                #expect(try await listed("score=39") == [])
                #expect(try await listed("score=90-100") == [ids[1]])
                #expect(try await listed("score=0-100") == Array(ids.prefix(2)))
                let overview = try await visitor.get("/console")
                #expect(overview.text.contains("href=\"/console/devices?score=40-49\""))
                #expect(overview.text.contains("<td><a href=\"/console/devices?score=40-49\">40–49</a></td><td>1</td>"), "\(overview.text.prefix(100))")
            }
        }
    }
}
