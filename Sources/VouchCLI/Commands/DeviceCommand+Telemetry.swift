import ArgumentParser
import Foundation
import VouchAPI
import VouchCore
import VouchKit

extension DeviceCommand {
    /// The device's telemetry sequence counter, kept in DIR/telemetry-seq and advanced before any
    /// envelope is sent, so that a number is never signed twice.
    static func nextSequences(_ count: Int, dir: String) throws -> ClosedRange<UInt64> {
        let path = dir + "/telemetry-seq"
        let current = (try? String(contentsOfFile: path, encoding: .utf8)).flatMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
        // The server takes sequence numbers up to 2^53 (what JSON numbers hold exactly).
        guard count >= 0, current <= 1 << 53, UInt64(count) <= (1 << 53) - current else {
            throw ValidationError("\(path) holds \(current): the telemetry sequence is exhausted (at most 2^53); the device needs a new key")
        }
        let last = current + UInt64(count)
        try AtomicFile.write(Data("\(last)\n".utf8), to: path, mode: 0o600, replacingExisting: true)
        return (current + 1)...last
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign telemetry with the device key and send it as one batch; prints what the server made of each message.",
            discussion: "Exit status 1 when the server refused any message."
        )

        @Option(help: "The device directory written by vouch device enroll.") var dir: String
        @Option(help: "The Vouch server (default: the one the device enrolled with).") var server: String?
        @Option(help: "The topic, such as telemetry/DEVICE/temp.") var topic: String
        @Option(name: .customLong("payload"), help: "A message (repeatable: one envelope each).") var payloads: [String]
        @Flag(help: "Print the server's JSON answer.") var json = false

        func run() async throws {
            guard !payloads.isEmpty else { throw ValidationError("give at least one --payload") }
            let identity = try Identity(dir: dir, server: server)
            let agent = try identity.agent(reserving: payloads.count)
            var envelopes: [String] = []
            for payload in payloads {
                envelopes.append(try await agent.telemetry(topic: topic, payload: Data(payload.utf8)))
            }
            let answer = try await identity.authorizedClient().sendTelemetry(envelopes)
            if json {
                CLIOutput.json(answer)
            } else {
                for result in answer.results {
                    if let reason = result.reason {
                        print("message \(result.index): rejected (\(reason)): \(result.detail ?? "")")
                    } else {
                        print("message \(result.index): accepted")
                    }
                }
            }
            if answer.rejected > 0 { throw ExitCode(1) }
        }
    }

    struct Attest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Report the firmware the device runs (at boot): its image's SHA-256 and version, signed with the device key.",
            discussion: """
                The measurement answers a fresh nonce from the server, so that it also clears a step-up \
                the server asked for. Prints good, unknown or revoked; exit status 1 unless good.
                """
        )

        @Option(help: "The device directory written by vouch device enroll.") var dir: String
        @Option(help: "The Vouch server (default: the one the device enrolled with).") var server: String?
        @Option(help: "The firmware image file, hashed here.") var image: String?
        @Option(help: "The image's SHA-256, in hex (instead of --image).") var sha256: String?
        @Option(help: "The firmware version.") var version: String

        func run() async throws {
            let identity = try Identity(dir: dir, server: server)
            let nonce = try await identity.challenge()
            let measurement = try CLIInput.measurement(image: image, sha256: sha256, version: version)
            let envelope = try await identity.agent(reserving: 1).measurement(measurement, answering: nonce)
            let verdict = try await identity.authorizedClient().attest(MeasurementBody(measurement: envelope, nonce: nonce))
            print("\(verdict.status.rawValue): \(verdict.detail)")
            if verdict.status != .good { throw ExitCode(1) }
        }
    }
}
