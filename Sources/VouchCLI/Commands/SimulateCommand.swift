import ArgumentParser
import Foundation
import VouchSimulation

/// `vouch simulate`: a fleet that enrolls, reports and, for the chosen fraction, misbehaves.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Run a simulated fleet against a server and report what monitoring found.",
        discussion: """
            Each device generates its own key, enrolls with a claim token, reports the fleet's known-good firmware \
            and sends signed telemetry. After the warm-up, the devices chosen for each anomaly misbehave: \
            \(Anomaly.allCases.map(\.rawValue).joined(separator: ", ")). At the end every device's trust score, \
            signals, responses and state are read back and summed up: how many misbehaving devices were found, how \
            fast, and how many well-behaved ones were flagged. Needs an API key with the operator scope.
            """
    )

    @Option(help: "The Vouch server (VOUCH_SERVER), such as http://127.0.0.1:8080.") var server: String?
    @Option(name: .customLong("api-key"), help: "An API key with the operator scope (VOUCH_API_KEY).") var apiKey: String?
    @Option(help: "Devices in the fleet.") var devices: Int = 100
    @Option(help: "Messages per device per minute, on average.") var rate: Double = 4
    @Option(name: .customLong("anomaly"), help: "KIND:FRACTION, such as burst:0.05 (repeatable).") var anomalies: [String] = []
    @Option(help: "Seeds who misbehaves and how the fleet behaves.") var seed: UInt64 = 1
    @Option(name: .customLong("warm-up"), help: "Seconds of normal behaviour before anomalies start.") var warmUp: Double = 300
    @Option(help: "Seconds the anomalies run.") var duration: Double = 180
    @Option(help: "Seconds between a device's batches.") var interval: Double = 15
    @Option(help: "A policy file to upload first (YAML or JSON).") var policy: String?
    @Option(help: "The zone devices join.") var zone: String = "default"
    @Option(name: .customLong("role"), help: "A role devices get (repeatable; default sensor).") var roles: [String] = []
    @Option(help: "The model attribute of the devices (their cohort).") var model: String = "sim-sensor"
    @Option(name: .customLong("anomaly-address"), help: "Local address a moving device connects from (default 127.0.0.2 for a loopback server).")
    var anomalyAddress: String?
    @Option(help: "Requests in flight at once.") var concurrency: Int = 32

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let server = server ?? environment["VOUCH_SERVER"], let url = URL(string: server) else { throw ValidationError("give --server or set VOUCH_SERVER") }
        guard let key = (apiKey ?? environment["VOUCH_API_KEY"])?.trimmingCharacters(in: .whitespacesAndNewlines), !key.isEmpty else {
            throw ValidationError("give --api-key or set VOUCH_API_KEY (an operator or admin key)")
        }
        var fractions: [Anomaly: Double] = [:]
        for text in anomalies {
            do {
                let (kind, fraction) = try SimulationPlan.anomaly(text)
                fractions[kind] = fraction
            } catch {
                throw ValidationError(error.description)
            }
        }
        let plan = SimulationPlan(
            server: url, apiKey: key, devices: devices, rate: rate, anomalies: fractions, seed: seed, warmUp: warmUp, anomalyDuration: duration,
            interval: interval, policy: try policy.map { try CLIInput.readText($0) }, zone: zone, roles: roles.isEmpty ? ["sensor"] : roles, model: model,
            anomalyAddress: anomalyAddress, concurrency: concurrency)
        let simulator = FleetSimulator(plan: plan) { line in
            FileHandle.standardOutput.write(Data((line + "\n").utf8))
        }
        do {
            let report = try await simulator.run()
            print("")
            print(report.rendered())
        } catch let error as SimulationError {
            FileHandle.standardError.write(Data("Error: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
    }
}
