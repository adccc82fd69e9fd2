import ArgumentParser
import Foundation
import VouchKit

/// Options every admin command takes.
struct AdminConnection: ParsableArguments {
    @Option(help: "The Vouch server (VOUCH_SERVER), such as http://127.0.0.1:8080.") var server: String?
    @Option(name: .customLong("api-key"), help: "An API key (VOUCH_API_KEY).") var apiKey: String?

    func client() throws -> APIClient {
        let environment = ProcessInfo.processInfo.environment
        guard let server = server ?? environment["VOUCH_SERVER"] else { throw ValidationError("give --server or set VOUCH_SERVER") }
        guard let key = apiKey ?? environment["VOUCH_API_KEY"], !key.isEmpty else {
            throw ValidationError("give --api-key or set VOUCH_API_KEY (the first start prints one and writes DATA_DIR/admin-api-key)")
        }
        return try APIClient(server: server, apiKey: key.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// `vouch admin …`: operate a Vouch server.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Operate a Vouch server: enrollment groups, devices and firmware.",
        subcommands: [Group.self, Device.self, Firmware.self]
    )

    struct Group: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "group", abstract: "Enrollment groups.", subcommands: [Create.self, List.self])

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
                var body: [String: JSONValue] = [
                    "name": .string(name), "attestation": .string(attestation), "approval": .string(approval),
                    "requiredAttributes": .array(requireAttribute.map(JSONValue.string)),
                    "manufacturerRoots": .array(try manufacturerCA.map { .string(try CLIInput.readText($0)) }),
                ]
                if tokenUses == "unlimited" {
                    body["unlimitedTokenUses"] = true
                } else if let uses = Int(tokenUses) {
                    body["tokenUses"] = .number(Double(uses))
                } else {
                    throw ValidationError("--token-uses must be a number or unlimited")
                }
                if let zone { body["defaultZone"] = .string(zone) }
                if !roles.isEmpty { body["defaultRoles"] = .array(roles.map(JSONValue.string)) }
                let answer = try await connection.client().json("POST", "/v1/admin/groups", body: .object(body))
                if json {
                    CLIOutput.json(answer)
                    return
                }
                let group = answer["group"]
                print("group \(group?["name"]?.stringValue ?? "") (\(group?["id"]?.stringValue ?? "")): \(group?["rules"]?["attestation"]?.stringValue ?? ""), approval \(group?["rules"]?["approval"]?.stringValue ?? "")")
                if let token = answer["claimToken"]?.stringValue {
                    print(token)
                }
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List enrollment groups.")
            @OptionGroup var connection: AdminConnection
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let answer = try await connection.client().json("GET", "/v1/admin/groups")
                if json { return CLIOutput.json(answer) }
                for group in answer.arrayValue {
                    let uses = group["tokenUsesLeft"]?.intValue.map { "\($0) uses left" } ?? "unlimited"
                    print("\(group["name"]?.stringValue ?? "")\t\(group["rules"]?["attestation"]?.stringValue ?? "")\t\(group["disabled"] == .bool(true) ? "disabled" : "enabled")\t\(uses)")
                }
            }
        }
    }

    struct Device: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "device", abstract: "Devices and their lifecycle.",
            subcommands: [List.self, Show.self, Trust.self, Assign.self, Approve.self, Suspend.self, Reinstate.self, Quarantine.self, Release.self, Revoke.self, Decommission.self]
        )

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List devices.")
            @OptionGroup var connection: AdminConnection
            @Option(help: "Only devices in this state.") var state: String?
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let client = try connection.client()
                var devices: [JSONValue] = []
                var after: String?
                repeat {
                    var path = "/v1/admin/devices?limit=1000"
                    if let state { path += "&state=\(state.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
                    if let after { path += "&after=\(after)" }
                    let page = try await client.json("GET", path)
                    devices += page["devices"]?.arrayValue ?? []
                    after = page["next"]?.stringValue
                } while after != nil
                if json { return CLIOutput.json(.array(devices)) }
                for device in devices {
                    print("\(device["id"]?.stringValue ?? "")\t\(device["state"]?.stringValue ?? "")\t\(device["zone"]?.stringValue ?? "")\t\(device["did"]?.stringValue ?? "")")
                }
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show a device: certificates, credentials, history.")
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The device id.") var id: String
            @Flag(help: "Print JSON.") var json = false

            func run() async throws {
                let detail = try await connection.client().json("GET", "/v1/admin/devices/\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["_", "-"])) ?? id)")
                if json { return CLIOutput.json(detail) }
                let device = detail["device"]
                print("device \(device?["id"]?.stringValue ?? "")")
                print("state: \(device?["state"]?.stringValue ?? "") (legal actions: \((device?["legalActions"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ", ")))")
                print("did: \(device?["did"]?.stringValue ?? "")")
                print("zone: \(device?["zone"]?.stringValue ?? "")")
                for certificate in detail["certificates"]?.arrayValue ?? [] {
                    print("certificate \(certificate["serial"]?.stringValue ?? ""): \(certificate["status"]?.stringValue ?? "")")
                }
                for event in detail["history"]?.arrayValue ?? [] {
                    print("event \(event["seq"]?.intValue ?? 0): \(event["kind"]?.stringValue ?? "") by \(event["actor"]?.stringValue ?? "")")
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
                let path = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["_", "-"])) ?? id
                let report = try await connection.client().json("GET", "/v1/devices/\(path)/trust")
                if json { return CLIOutput.json(report) }
                print("trust \(report["explanation"]?.stringValue ?? "")")
                for signal in report["signals"]?.arrayValue ?? [] {
                    let contribution = String(format: "%.1f", signal["contribution"]?.numberValue ?? 0)
                    let weight = String(format: "%.0f", signal["weight"]?.numberValue ?? 0)
                    print(
                        "signal \(signal["kind"]?.stringValue ?? ""): −\(contribution) (weight \(weight), raised \(signal["count"]?.intValue ?? 0)×, "
                            + "last \(signal["ageSeconds"]?.intValue ?? 0) s ago): \(signal["detail"]?.stringValue ?? "")")
                }
                let responses = (report["responses"]?.arrayValue ?? []).compactMap(\.stringValue)
                if !responses.isEmpty { print("responses fired: \(responses.joined(separator: ", "))") }
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
                var body: [String: JSONValue] = [:]
                if let zone { body["zone"] = .string(zone) }
                if !roles.isEmpty || noRoles { body["roles"] = .array(roles.map(JSONValue.string)) }
                guard !body.isEmpty else { throw ValidationError("give --zone, --role or --no-roles") }
                let answer = try await connection.client().json(
                    "PATCH", "/v1/admin/devices/\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["_", "-"])) ?? id)", body: .object(body))
                let roles = (answer["roles"]?.arrayValue ?? []).compactMap(\.stringValue)
                print("device \(id): zone \(answer["zone"]?.stringValue ?? ""), roles \(roles.isEmpty ? "none" : roles.joined(separator: ", "))")
            }
        }

        /// A lifecycle action on one device.
        static func apply(_ action: String, id: String, reason: String?, connection: AdminConnection) async throws {
            var body: [String: JSONValue] = [:]
            if let reason { body["reason"] = .string(reason) }
            let answer = try await connection.client().json("POST", "/v1/admin/devices/\(id.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(["_", "-"])) ?? id)/\(action)", body: .object(body))
            print("device \(id) is \(answer["device"]?["state"]?.stringValue ?? "")")
        }

        /// What every lifecycle subcommand takes: the server, the device, and a reason.
        struct LifecycleArguments: ParsableArguments {
            @OptionGroup var connection: AdminConnection
            @Argument(help: "The device id.") var id: String
            @Option(help: "Reason: key-compromise, superseded, cessation-of-operation, affiliation-changed, unspecified.") var reason: String?

            func apply(_ action: String) async throws {
                try await Device.apply(action, id: id, reason: reason, connection: connection)
            }
        }

        struct Approve: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply("approve") }
        }

        struct Suspend: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "suspend", abstract: "Suspend a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply("suspend") }
        }

        struct Reinstate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "reinstate", abstract: "Reinstate a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply("reinstate") }
        }

        struct Quarantine: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "quarantine", abstract: "Quarantine a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply("quarantine") }
        }

        struct Release: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "release", abstract: "Release a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply("release") }
        }

        struct Revoke: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "revoke", abstract: "Revoke a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply("revoke") }
        }

        struct Decommission: AsyncParsableCommand {
            static let configuration = CommandConfiguration(commandName: "decommission", abstract: "Decommission a device.")
            @OptionGroup var arguments: LifecycleArguments
            func run() async throws { try await arguments.apply("decommission") }
        }
    }
}
