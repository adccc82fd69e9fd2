import ArgumentParser
import Foundation
import VouchAPI
import VouchKit

/// `vouch gateway …`: what an enforcement point (the Mosquitto plugin, a gateway) reads to decide
/// on its own, read the same way: to see what a broker sees, with the broker's gateway key.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "What brokers and gateways read to decide on their own: devices, the policy, their changes (any API key, gateway included).",
        subcommands: [Devices.self, Device.self, Policy.self, Watch.self, Report.self, RabbitMQ.self]
    )

    struct Devices: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List devices as a broker decides for them: id, state, zone, roles and good certificate serials; every page, or one.")
        @OptionGroup var connection: AdminConnection
        @Option(help: "Start after this device id (one page only).") var after: String?
        @Option(help: "Devices per page, 1 to 1000.") var limit: Int = 500
        @Flag(help: "Print each device as a JSON line.") var json = false

        func validate() throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit is from 1 to 1000") }
        }

        func run() async throws {
            let client = try connection.client()
            var cursor = after
            repeat {
                let page = try await client.gatewayDevices(after: cursor, limit: limit)
                for device in page.devices {
                    if json {
                        CLIOutput.json(device)
                    } else {
                        print("\(device.id)\t\(device.state)\tzone \(device.zone)\troles \(device.roles.joined(separator: ","))\tcertificates \(device.serials.joined(separator: ","))")
                    }
                }
                cursor = page.next
            } while cursor != nil && after == nil
        }
    }

    struct Device: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print one device as a broker decides for it (JSON).")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The device id.") var id: String

        func run() async throws {
            CLIOutput.json(try await connection.client().gatewayDevice(id))
        }
    }

    struct Policy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the policy in force as brokers read it: its version, then its text.")
        @OptionGroup var connection: AdminConnection

        func run() async throws {
            let policy = try await connection.client().gatewayPolicy()
            print("version \(policy.version)")
            print(policy.source, terminator: policy.source.hasSuffix("\n") || policy.source.isEmpty ? "" : "\n")
        }
    }

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send what a gateway saw devices do to Vouch's monitoring (a gateway key only).",
            discussion: """
                Reads a report as JSON ({"devices": [{"id": …, "messagesIn": …, "denials": …, "forged": …, "sources": […]}]}, \
                at most 1,000 devices) from --file, or standard input with -; prints how many devices were taken and the ids \
                that are no device here. For gateways other than the Mosquitto plugin, which reports on its own.
                """)
        @OptionGroup var connection: AdminConnection
        @Option(help: "The report's JSON file, or - for standard input.") var file: String

        func run() async throws {
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let read = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
                data = read
            }
            let report: GatewayReport
            do {
                report = try JSONDecoder().decode(GatewayReport.self, from: data)
            } catch {
                throw ValidationError("\(file == "-" ? "standard input" : file) is not a report: {\"devices\": [{\"id\": \"dev_…\", \"messagesIn\": 3}]}")
            }
            let answer = try await connection.client().gatewayReport(report)
            print("taken: \(answer.accepted) device(s)" + (answer.unknown.isEmpty ? "" : "; not devices here: \(answer.unknown.joined(separator: ", "))"))
        }
    }

    struct RabbitMQ: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rabbitmq",
            abstract: "Ask what RabbitMQ's HTTP auth backend asks, as it asks: prints allow or deny (exit 1 on deny).",
            discussion: """
                QUESTION is user, vhost, resource or topic; give the fields RabbitMQ sends, such as \
                vouch gateway rabbitmq topic --field username=dev_… --field vhost=/ --field resource=topic --field name=amq.topic \
                --field permission=write --field routing_key=telemetry.dev_….temp (a gateway key; denials count against the device).
                """)
        @OptionGroup var connection: AdminConnection
        @Argument(help: "user, vhost, resource or topic.") var question: String
        @Option(name: .customLong("field"), help: "NAME=VALUE; repeat for each field.") var fields: [String] = []

        func validate() throws {
            guard ["user", "vhost", "resource", "topic"].contains(question) else { throw ValidationError("QUESTION is user, vhost, resource or topic") }
            for field in fields where !field.contains("=") { throw ValidationError("--field \(field.prefix(64)) is not NAME=VALUE") }
        }

        func run() async throws {
            let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
            let form = fields.map { field -> String in
                let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return parts.map { String($0).addingPercentEncoding(withAllowedCharacters: allowed) ?? String($0) }.joined(separator: "=")
            }.joined(separator: "&")
            let answer = try await connection.client().send(
                "POST", "/v1/brokers/rabbitmq/\(question)", body: .bytes(Array(form.utf8), contentType: "application/x-www-form-urlencoded")
            ).text
            print(answer)
            if answer != "allow" { throw ExitCode(1) }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print changes as brokers receive them, until interrupted: one line per device or policy frame.",
            discussion: """
                Reads /v1/gateway/stream: SEQUENCE, then device (the device as it is now, JSON), removed or policy (version \
                and text, JSON). A dropped connection is opened again from the last frame printed.
                """)
        @OptionGroup var connection: AdminConnection
        @Option(help: "Start after this event sequence number (0: from the first event); default: from now.") var from: Int?

        func validate() throws {
            if let from, from < 0 { throw ValidationError("--from must be 0 or more") }
        }

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            guard let server = connection.server ?? environment["VOUCH_SERVER"] else { throw ValidationError("give --server or set VOUCH_SERVER") }
            guard let key = connection.apiKey ?? environment["VOUCH_API_KEY"], !key.isEmpty else {
                throw ValidationError("give --api-key or set VOUCH_API_KEY")
            }
            let client = try EventStreamClient(server: server, apiKey: key.trimmingCharacters(in: .whitespacesAndNewlines))
            for try await frame in client.frames(path: "/v1/gateway/stream" + (from.map { "?after=\($0)" } ?? "")) {
                // Unbuffered: whoever reads the output sees each change as it comes.
                FileHandle.standardOutput.write(Data("\(frame.id ?? "-")\t\(frame.event ?? "message")\t\(frame.data)\n".utf8))
            }
        }
    }
}
