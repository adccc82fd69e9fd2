import Foundation
import Testing

private let promtool = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// `/metrics` as Prometheus reads it: `promtool check metrics` (lint included) finds nothing, requests
/// are counted by route pattern with their latency, and the product's counts move with what happens.
@Suite("Metrics exposition")
struct MetricsExpositionTests {
    /// The value of the sample `name{labels}` (labels as the exposition writes them), if any.
    static func sample(_ exposition: String, _ series: String) -> Double? {
        for line in exposition.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test(.enabled(if: promtool != nil || ProcessInfo.processInfo.environment["CI"] != nil, "needs promtool (CI installs Debian's prometheus)"))
    func promtoolFindsNothingAndTheCountsFollowWhatHappened() async throws {
        let tool = try #require(promtool, "promtool is not installed (apt-get install prometheus)")
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer { server, admin in
                let connection = ["--server", server, "--api-key", admin]
                let group = try await vouch.run(["admin", "group", "create", "--name", "metered"] + connection)
                let token = try #require(group.lastOutputLine)
                let enrolled = try await vouch.run(["device", "enroll", "--server", server, "--group", "metered", "--token", token, "--dir", "dev"])
                let device = try #require(enrolled.lastOutputLine)
                try await vouch.run(["authorize", "--subject", device, "--action", "publish", "--resource", "x"] + connection).expectExit(1)
                try await vouch.run(["admin", "device", "show", device] + connection).expectExit(0)

                let metrics = try await vouch.run(["admin", "metrics"] + connection)
                metrics.expectExit(0)
                let exposition = metrics.standardOutput
                try vouch.write(exposition, to: "metrics.txt")
                let check = try vouch.program(tool, ["check", "metrics"], input: vouch.url("metrics.txt"))
                #expect(check.status == 0 && check.output.isEmpty, "promtool check metrics: \(check.output)")

                // Requests by route pattern, never by raw path; latency beside them.
                #expect((Self.sample(exposition, #"vouch_http_requests_total{method="POST",route="/v1/enrollments",status="201"}"#) ?? 0) >= 1, "\(exposition)")
                #expect((Self.sample(exposition, #"vouch_http_requests_total{method="GET",route="/v1/admin/devices/{id}",status="200"}"#) ?? 0) >= 1)
                #expect((Self.sample(exposition, #"vouch_http_request_duration_seconds_count{method="POST",route="/v1/enrollments",status="201"}"#) ?? 0) >= 1)
                #expect(!exposition.contains(device), "a device id reached a label")
                // The product's counts.
                #expect(Self.sample(exposition, "vouch_enrollments_total") == 1)
                #expect(Self.sample(exposition, #"vouch_authorization_decisions_total{decision="deny"}"#) == 1)
                #expect(Self.sample(exposition, #"vouch_devices{state="active"}"#) == 1)
                #expect((Self.sample(exposition, "vouch_events_last_sequence") ?? 0) > 0)
                #expect(Self.sample(exposition, "vouch_log_entries") != nil && Self.sample(exposition, "vouch_log_sequencer_lag") != nil)
            }
        }
    }
}
