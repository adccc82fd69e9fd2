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
        discussion: """
            Exit status:
              0  done
              1  checked and refused: a credential, presentation, log or policy that does not verify, an authorization denied
              2  a usage or input error: an unknown option, a missing or unreadable file, a value out of range
              3  the server refused the request (an HTTP 4xx answer: not found, not allowed, conflict…)
              4  the server could not be reached, failed (HTTP 5xx) or answered with something that is not the API
            """,
        version: VouchVersion.current,
        subcommands: [
            KeysCommand.self, DIDCommand.self, CredentialCommand.self, PresentationCommand.self,
            StatusListCommand.self, LogCommand.self, WitnessCommand.self, ServeCommand.self, DeviceCommand.self, AdminCommand.self,
            PolicyCommand.self, AuthorizeCommand.self, EventsCommand.self, WebhookCommand.self, GatewayCommand.self, SimulateCommand.self,
        ]
    )

    /// The exit status of a request the server did not carry out.
    static func exitStatus(for error: VouchClientError) -> Int32 {
        switch error.code {
        case .refused: (400..<500).contains(error.status) ? 3 : 4
        case .unreachable, .malformedAnswer: 4
        }
    }

    /// Runs the command; maps usage and input errors to exit status 2, verification failures to 1
    /// and failed requests to 3 or 4 (see the discussion above).
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
            // The server refused (3), or failed or could not be reached (4). The problem's detail
            // already names the legal actions of a 409; they are added only when it does not.
            FileHandle.standardError.write(Data("Error: \(error.reason)\n".utf8))
            if let legal = error.problem?.legalActions, !legal.isEmpty, !error.reason.contains("legal actions") {
                FileHandle.standardError.write(Data("legal actions: \(legal)\n".utf8))
            }
            Foundation.exit(exitStatus(for: error))
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
