import Foundation
import Testing

/// `vouch simulate` against a real `vouch serve`, in real time: a small fleet with the README's
/// policy, where forged telemetry and swapped firmware are found and quarantined, a device that
/// moves is asked to step up, and the rest keep working.
@Suite("vouch simulate")
struct SimulateCommandTests {
    static func readmePolicy() throws -> String {
        let readme = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "cat > /tmp/fleet-policy.yaml <<'END'\n"), "README has no fleet policy")
        let end = try #require(readme[start.upperBound...].range(of: "\nEND\n"))
        return String(readme[start.upperBound..<end.lowerBound]) + "\n"
    }

    /// The row of the report's table for `anomaly`, as its columns.
    static func row(_ output: String, _ anomaly: String) -> [String]? {
        output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }.first { $0.first == anomaly }
    }

    @Test func aSmallFleetIsFoundExplainedAndQuarantined() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer(extraArguments: ["--rate-limit", "100000"]) { server, admin in
                try vouch.write(try Self.readmePolicy(), to: "fleet-policy.yaml")
                let result = try await vouch.run(
                    "simulate", "--server", server, "--api-key", admin, "--devices", "20", "--rate", "20", "--interval", "2", "--warm-up", "6",
                    "--duration", "8", "--policy", "fleet-policy.yaml", "--seed", "7", "--anomaly", "forged:0.1", "--anomaly", "firmware-swap:0.1",
                    "--anomaly", "new-address:0.1")
                result.expectExit(0)
                let output = result.standardOutput
                #expect(output.contains("enrolling 20 devices"), "\(result)")
                #expect(output.contains("anomalies start: new-address 2, forged 2, firmware-swap 2"), "\(result)")
                // Columns: anomaly, devices, found, recall, median (2 words), quarantined, step-up, alerted, signals…
                let forged = try #require(Self.row(output, "forged"), "\(result)")
                #expect(forged[1] == "2" && forged[2] == "2" && forged[3] == "1.00" && forged[6] == "2", "\(forged)")
                let swapped = try #require(Self.row(output, "firmware-swap"), "\(result)")
                #expect(swapped[2] == "2" && swapped[6] == "2", "\(swapped)")
                let moved = try #require(Self.row(output, "new-address"), "\(result)")
                #expect(moved[2] == "2" && moved[6] == "0" && moved[7] == "2", "\(moved)")
                let normal = try #require(Self.row(output, "none"), "\(result)")
                #expect(normal[1] == "14" && normal[2] == "0", "\(normal)")
                #expect(output.contains("false-positive rate 0.000"), "\(result)")
                let example = try #require(output.split(separator: "\n").first { $0.hasPrefix("forged: ") }, "\(result)")
                #expect(example.contains("is quarantined, trust 100 − ") && example.contains(" signature.forged"), "\(example)")

                // The operator reads a device's score and why.
                let id = String(example.split(separator: " ")[1])
                let trust = try await vouch.run("admin", "device", "trust", id, "--server", server, "--api-key", admin)
                trust.expectExit(0)
                #expect(trust.standardOutput.hasPrefix("trust 100 − "), "\(trust)")
                #expect(trust.standardOutput.contains("signal signature.forged: −"), "\(trust)")
            }
        }
    }

    @Test func badPlansAreRefusedBeforeAnythingIsSent() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            let unknown = try await vouch.run("simulate", "--server", "http://127.0.0.1:9", "--api-key", "vk_x", "--anomaly", "teleport:0.1")
            #expect(unknown.status != 0)
            #expect(unknown.standardError.contains("KIND one of burst, new-address, replay, forged, firmware-swap, out-of-policy"), "\(unknown)")
            let tooMuch = try await vouch.run(
                "simulate", "--server", "http://127.0.0.1:9", "--api-key", "vk_x", "--anomaly", "burst:0.7", "--anomaly", "forged:0.5")
            #expect(tooMuch.status == 1)
            #expect(tooMuch.standardError.contains("add up to 1.2"), "\(tooMuch)")
            let tls = try await vouch.run("simulate", "--server", "https://vouch.example", "--api-key", "vk_x")
            #expect(tls.status == 1)
            #expect(tls.standardError.contains("must be an http:// URL"), "\(tls)")
            let noKey = try await vouch.run("simulate", "--server", "http://127.0.0.1:9")
            #expect(noKey.status != 0)
            #expect(noKey.standardError.contains("--api-key"), "\(noKey)")
        }
    }
}
