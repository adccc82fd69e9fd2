import ArgumentParser
import Foundation
import VouchKit

extension AdminCommand {
    struct Firmware: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "firmware", abstract: "Known-good firmware measurements.", subcommands: [Register.self, Revoke.self, List.self])

        struct Register: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Register a known-good image for a model.")
            @OptionGroup var connection: AdminConnection
            @Option(help: "The model, as devices give it in their model attribute.") var model: String
            @Option(help: "The version.") var version: String
            @Option(help: "The image file, hashed here.") var image: String?
            @Option(help: "The image's SHA-256, in hex (instead of --image).") var sha256: String?

            func run() async throws {
                let measurement = try CLIInput.measurement(image: image, sha256: sha256, version: version)
                let answer = try await connection.client().json("POST", "/v1/admin/firmware", body: [
                    "model": .string(model), "version": .string(measurement.version), "sha256": .string(measurement.sha256),
                ])
                print("registered \(model) \(measurement.version): \(answer["sha256"]?.stringValue ?? "")")
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a measurement: devices running it are flagged.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The image's SHA-256, in hex.") var sha256: String

            func run() async throws {
                let answer = try await connection.client().json("POST", "/v1/admin/firmware/\(sha256.lowercased())/revoke")
                let devices = (answer["devices"]?.arrayValue ?? []).compactMap(\.stringValue)
                print("revoked \(sha256.lowercased()); devices running it: \(devices.isEmpty ? "none" : devices.joined(separator: ", "))")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List registered measurements.")
            @OptionGroup var connection: AdminConnection
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let answer = try await connection.client().json("GET", "/v1/admin/firmware")
                if json { return CLIOutput.json(answer) }
                for entry in answer.arrayValue {
                    print("\(entry["model"]?.stringValue ?? "")\t\(entry["version"]?.stringValue ?? "")\t\(entry["status"]?.stringValue ?? "")\t\(entry["sha256"]?.stringValue ?? "")")
                }
            }
        }
    }
}
