import ArgumentParser
import Foundation
import VouchAPI
import VouchCore
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
                let registered = try await connection.client().registerFirmware(
                    FirmwareRegistration(model: model, version: measurement.version, sha256: measurement.sha256))
                print("registered \(model) \(measurement.version): \(registered.sha256)")
            }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Revoke a measurement: devices running it are flagged.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The image's SHA-256, in hex.") var sha256: String

            func run() async throws {
                let devices = try await connection.client().revokeFirmware(sha256.lowercased()).devices
                print("revoked \(sha256.lowercased()); devices running it: \(devices.isEmpty ? "none" : devices.joined(separator: ", "))")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List registered measurements.")
            @OptionGroup var connection: AdminConnection
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let registered = try await connection.client().firmware()
                if json { return CLIOutput.json(registered) }
                for entry in registered {
                    print("\(entry.model)\t\(entry.version)\t\(entry.status.rawValue)\t\(entry.sha256)")
                }
            }
        }
    }
}
