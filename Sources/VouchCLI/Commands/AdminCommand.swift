import ArgumentParser
import Foundation
import VouchAPI
import VouchCore
import VouchKit

/// Options every admin command takes.
struct AdminConnection: ParsableArguments {
    @Option(help: "The Vouch server (VOUCH_SERVER), such as http://127.0.0.1:8080.") var server: String?
    @Option(name: .customLong("api-key"), help: "An API key (VOUCH_API_KEY).") var apiKey: String?

    func client() throws -> VouchClient {
        let environment = ProcessInfo.processInfo.environment
        guard let server = server ?? environment["VOUCH_SERVER"] else { throw ValidationError("give --server or set VOUCH_SERVER") }
        guard let key = apiKey ?? environment["VOUCH_API_KEY"], !key.isEmpty else {
            throw ValidationError("give --api-key or set VOUCH_API_KEY (the first start prints one and writes DATA_DIR/admin-api-key)")
        }
        return VouchClient(transport: try CLIInput.transport(server), credential: .apiKey(key.trimmingCharacters(in: .whitespacesAndNewlines)))
    }
}

/// `vouch admin …`: operate a Vouch server.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Operate a Vouch server: enrollment groups, devices, firmware, API keys, events and metrics.",
        subcommands: [Group.self, Device.self, Firmware.self, APIKeys.self, Events.self, Metrics.self, CA.self, Recover.self, MigrateURL.self, BackupCommand.self, Restore.self]
    )

    struct Group: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "group", abstract: "Enrollment groups.", subcommands: [Create.self, List.self, Show.self, Update.self, Disable.self, Enable.self])

        struct Create: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Create an enrollment group; prints it, and for claim-token groups the claim token as the last line.")
            @OptionGroup var connection: AdminConnection
            @Option(help: "The group's name.") var name: String
            @Option(help: "claim-token or manufacturer-ca.") var attestation: String = "claim-token"
            @Option(name: .customLong("token-uses"), help: "How many enrollments the claim token allows: a number or unlimited.") var tokenUses: String = "1"
            @Option(name: .customLong("manufacturer-ca"), help: "A PEM file of a manufacturer root (repeatable).") var manufacturerCA: [String] = []
            @Option(help: "auto or manual.") var approval: String = "auto"
            @Option(name: .customLong("require-attribute"), help: "An attribute devices must give (repeatable).") var requireAttribute: [String] = []
            @Option(help: "The zone new devices join.") var zone: String?
            @Option(name: .customLong("role"), help: "A role new devices get a credential for (repeatable).") var roles: [String] = []
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                guard let mode = AttestationMode(rawValue: attestation) else {
                    throw ValidationError("--attestation must be one of \(AttestationMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard let approvalMode = ApprovalMode(rawValue: approval) else {
                    throw ValidationError("--approval must be one of \(ApprovalMode.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                var request = GroupRequest(
                    name: name, attestation: mode, manufacturerRoots: try manufacturerCA.map { try CLIInput.readText($0) },
                    requiredAttributes: requireAttribute, defaultZone: zone, defaultRoles: roles.isEmpty ? nil : roles, approval: approvalMode)
                if tokenUses == "unlimited" {
                    request.unlimitedTokenUses = true
                } else if let uses = Int(tokenUses) {
                    request.tokenUses = uses
                } else {
                    throw ValidationError("--token-uses must be a number or unlimited")
                }
                let answer = try await connection.client().createGroup(request)
                if json { return CLIOutput.json(answer) }
                let group = answer.group
                print("group \(group.name) (\(group.id)): \(group.rules.attestation.rawValue), approval \(group.rules.approval.rawValue)")
                if let token = answer.claimToken {
                    print(token)
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List enrollment groups.")
            @OptionGroup var connection: AdminConnection
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let groups = try await connection.client().groups()
                if json { return CLIOutput.json(groups) }
                for group in groups {
                    print("\(group.name)\t\(group.rules.attestation.rawValue)\t\(group.disabled ? "disabled" : "enabled")\t\(Plural.uses(group.tokenUsesLeft))")
                }
            }
        }
    }

    struct Device: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "device", abstract: "Devices and their lifecycle.",
            subcommands: [
                List.self, Show.self, Trust.self, Telemetry.self, Assign.self, Approve.self, Suspend.self, Reinstate.self, Quarantine.self, Release.self, Revoke.self, Decommission.self]
        )

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List devices.")
            @OptionGroup var connection: AdminConnection
            @Option(help: "Only devices in this state.") var state: String?
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let devices = try await connection.client().allDevices(state: state)
                if json { return CLIOutput.json(devices) }
                for device in devices {
                    print("\(device.id)\t\(device.state)\t\(device.zone)\t\(device.did)")
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a device: certificates, credentials, history.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The device id.") var id: String
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let detail = try await connection.client().device(id)
                if json { return CLIOutput.json(detail) }
                let device = detail.device
                print("device \(device.id)")
                print("state: \(device.state) (legal actions: \(device.legalActions.joined(separator: ", ")))")
                print("did: \(device.did)")
                print("zone: \(device.zone)")
                for certificate in detail.certificates {
                    print("certificate \(certificate.serial): \(certificate.status)")
                }
                for event in detail.history {
                    print("event \(event.seq): \(event.kind) by \(event.actor)")
                }
            }
        }

        struct Trust: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show a device's trust score and why: each signal, its weight, its age and what it takes off.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The device id.") var id: String
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let report = try await connection.client().trust(of: id)
                if json { return CLIOutput.json(report) }
                print("trust \(report.explanation)")
                for signal in report.signals {
                    let contribution = String(format: "%.1f", signal.contribution)
                    let weight = String(format: "%.0f", signal.weight)
                    print(
                        "signal \(signal.kind): −\(contribution) (weight \(weight), raised \(signal.count)×, "
                            + "last \(signal.ageSeconds) s ago): \(signal.detail)")
                }
                if !report.responses.isEmpty { print("responses fired: \(report.responses.joined(separator: ", "))") }
            }
        }

        struct Assign: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Move a device to another zone or give it other roles; both must be defined by the policy in force.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The device id.") var id: String
            @Option(help: "The zone.") var zone: String?
            @Option(name: .customLong("role"), help: "A role (repeatable); replaces the device's roles.") var roles: [String] = []
            @Flag(name: .customLong("no-roles"), help: "Take every role away.") var noRoles = false

            func run() async throws {
                guard zone != nil || !roles.isEmpty || noRoles else { throw ValidationError("give --zone, --role or --no-roles") }
                let device = try await connection.client().assign(id, AssignmentRequest(zone: zone, roles: !roles.isEmpty || noRoles ? roles : nil))
                print("device \(id): zone \(device.zone), roles \(device.roles.isEmpty ? "none" : device.roles.joined(separator: ", "))")
            }
        }

        /// A lifecycle action on one device.
        static func apply(_ action: LifecycleAction, id: String, reason: String?, connection: AdminConnection) async throws {
            let answer = try await connection.client().act(action, on: id, reason: reason)
            print("device \(id) is \(answer.device.state)")
        }

        /// What every lifecycle subcommand takes: the server, the device, and a reason.
        struct LifecycleArguments: ParsableArguments {
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The device id.") var id: String
            @Option(help: "Reason: key-compromise, superseded, cessation-of-operation, affiliation-changed, unspecified.") var reason: String?

            func apply(_ action: LifecycleAction) async throws {
                try await Device.apply(action, id: id, reason: reason, connection: connection)
            }
        }

        struct Approve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply(.approve) }
        }

        struct Suspend: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "suspend", abstract: "Suspend a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply(.suspend) }
        }

        struct Reinstate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "reinstate", abstract: "Reinstate a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply(.reinstate) }
        }

        struct Quarantine: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "quarantine", abstract: "Quarantine a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply(.quarantine) }
        }

        struct Release: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "release", abstract: "Release a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply(.release) }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply(.revoke) }
        }

        struct Decommission: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "decommission", abstract: "Decommission a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply(.decommission) }
        }
    }
}
