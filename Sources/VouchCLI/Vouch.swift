import ArgumentParser
import Foundation
import VouchAPI
import VouchKit

/// The `vouch` command: the trust authority's server and admin tools, the device agent, and
/// offline verification and audit tools.
@main
struct Vouch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vouch",
        abstract: "Identity and trust authority for fleets of machines.",
        discussion: "Exit status: 0 on success, 1 when a verification fails or the server refuses, 2 on a usage or input error or an unreachable server.",
        subcommands: [
            KeysCommand.self, DIDCommand.self, CredentialCommand.self, PresentationCommand.self,
            StatusListCommand.self, LogCommand.self, WitnessCommand.self, ServeCommand.self, DeviceCommand.self, AdminCommand.self,
            PolicyCommand.self, AuthorizeCommand.self, SimulateCommand.self,
        ]
    )

    /// Runs the command; maps usage and input errors to exit status 2 and verification failures to 1.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let exitCode as ExitCode {
            Foundation.exit(exitCode.rawValue)
        } catch let error as VouchClientError {
            // The server refused (1: what was asked was not done), or could not be reached (2).
            FileHandle.standardError.write(Data("Error: \(error.reason)\n".utf8))
            if let legal = error.problem?.legalActions {
                FileHandle.standardError.write(Data("legal actions: \(legal)\n".utf8))
            }
            Foundation.exit(error.code == .unreachable ? 2 : 1)
        } catch {
            if exitCode(for: error) == .success {
                let arguments = CommandLine.arguments.dropFirst()
                if arguments.contains(where: { ["-h", "--help", "help", "--version"].contains($0) }) {
                    exit(withError: error)  // help or version was asked for
                }
                // A command group run without a subcommand: show its help, but as a usage error.
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            // Errors raised while running carry no usage worth repeating; parse errors do.
            let message = (error is ValidationError || error is VouchKitError) ? "Error: \(self.message(for: error))" : fullMessage(for: error)
            FileHandle.standardError.write(Data(((message.isEmpty ? "\(error)" : message) + "\n").utf8))
            Foundation.exit(2)
        }
    }
}
