import Foundation
import Testing

/// Every operation of the OpenAPI document an API key may call has a command, and every command
/// named here exists: the CLI covers the operator's API, and a new route without a command fails.
@Suite("The CLI covers the API")
struct APICoverageTests {
    /// The command that calls each API-key operation, as `METHOD path`.
    static let commands: [String: [String]] = [
        "GET /v1/admin/api-keys": ["admin", "api-key", "list"],
        "POST /v1/admin/api-keys": ["admin", "api-key", "create"],
        "DELETE /v1/admin/api-keys/{id}": ["admin", "api-key", "revoke"],
        "GET /v1/admin/groups": ["admin", "group", "list"],
        "POST /v1/admin/groups": ["admin", "group", "create"],
        "GET /v1/admin/groups/{id}": ["admin", "group", "show"],
        "PUT /v1/admin/groups/{id}": ["admin", "group", "update"],
        "POST /v1/admin/groups/{id}/disable": ["admin", "group", "disable"],
        "POST /v1/admin/groups/{id}/enable": ["admin", "group", "enable"],
        "GET /v1/admin/devices": ["admin", "device", "list"],
        "GET /v1/admin/devices/{id}": ["admin", "device", "show"],
        "PATCH /v1/admin/devices/{id}": ["admin", "device", "assign"],
        "POST /v1/admin/devices/{id}/{action}": ["admin", "device", "revoke"],
        "GET /v1/admin/devices/{id}/telemetry": ["admin", "device", "telemetry"],
        "GET /v1/devices/{id}/trust": ["admin", "device", "trust"],
        "GET /v1/admin/firmware": ["admin", "firmware", "list"],
        "POST /v1/admin/firmware": ["admin", "firmware", "register"],
        "POST /v1/admin/firmware/{sha256}/revoke": ["admin", "firmware", "revoke"],
        "GET /v1/admin/policy": ["policy", "show"],
        "PUT /v1/admin/policy": ["policy", "upload"],
        "GET /v1/admin/policy/versions": ["policy", "versions"],
        "POST /v1/authorize": ["authorize"],
        "GET /v1/events": ["admin", "events"],
        "GET /v1/events/stream": ["events", "tail"],
        "POST /v1/admin/webhooks": ["webhook", "add"],
        "GET /v1/admin/webhooks": ["webhook", "list"],
        "GET /v1/admin/webhooks/{id}": ["webhook", "show"],
        "PATCH /v1/admin/webhooks/{id}": ["webhook", "update"],
        "DELETE /v1/admin/webhooks/{id}": ["webhook", "remove"],
        "POST /v1/admin/webhooks/{id}/test": ["webhook", "test"],
        "GET /v1/admin/webhooks/{id}/deliveries": ["webhook", "deliveries"],
        "POST /v1/admin/webhooks/{id}/deliveries/{seq}/redeliver": ["webhook", "redeliver"],
        "POST /v1/admin/webhooks/{id}/replay": ["webhook", "replay"],
        "GET /metrics": ["admin", "metrics"],
        "GET /v1/gateway/devices": ["gateway", "devices"],
        "GET /v1/gateway/devices/{id}": ["gateway", "device"],
        "GET /v1/gateway/policy": ["gateway", "policy"],
        "GET /v1/gateway/stream": ["gateway", "watch"],
        "POST /v1/gateway/reports": ["gateway", "report"],
        "GET /v1/brokers/rabbitmq/user": ["gateway", "rabbitmq"], "POST /v1/brokers/rabbitmq/user": ["gateway", "rabbitmq"],
        "GET /v1/brokers/rabbitmq/vhost": ["gateway", "rabbitmq"], "POST /v1/brokers/rabbitmq/vhost": ["gateway", "rabbitmq"],
        "GET /v1/brokers/rabbitmq/resource": ["gateway", "rabbitmq"], "POST /v1/brokers/rabbitmq/resource": ["gateway", "rabbitmq"],
        "GET /v1/brokers/rabbitmq/topic": ["gateway", "rabbitmq"], "POST /v1/brokers/rabbitmq/topic": ["gateway", "rabbitmq"],
    ]

    /// The operations of the document whose security accepts an API key.
    static func apiKeyOperations() throws -> Set<String> {
        let document = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Sources/VouchServer/openapi.yaml"),
            encoding: .utf8)
        var operations: Set<String> = []
        var path: String?
        var method: String?
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), !line.hasPrefix("   "), let colon = line.lastIndex(of: ":") {
                path = String(line[line.index(line.startIndex, offsetBy: 2)..<colon])
                method = nil
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), let word = line.dropFirst(4).split(separator: ":").first,
                ["get", "put", "post", "patch", "delete"].contains(String(word))
            {
                method = word.uppercased()
            } else if !line.hasPrefix(" ") && !line.isEmpty {
                path = nil
            }
            if let path, let method, line.contains("security:"), line.contains("apiKey") {
                operations.insert("\(method) \(path)")
            }
        }
        return operations
    }

    @Test func everyAPIKeyOperationHasACommandThatExists() async throws {
        let operations = try Self.apiKeyOperations()
        #expect(operations.count >= 20, "the document was not read: \(operations)")
        let missing = operations.subtracting(Self.commands.keys)
        #expect(missing.isEmpty, "no CLI command for \(missing.sorted()); add one and list it here")
        let stale = Set(Self.commands.keys).subtracting(operations)
        #expect(stale.isEmpty, "listed but not in openapi.yaml (or no longer taking an API key): \(stale.sorted())")
        try await VouchProcess.withScratchDirectory { vouch in
            for (operation, words) in Self.commands.sorted(by: { $0.key < $1.key }) {
                let help = try await vouch.run(words + ["--help"])
                #expect(help.status == 0 && help.standardOutput.contains("USAGE: vouch \(words.joined(separator: " "))"), "\(operation): \(help)")
            }
        }
    }
}

extension APICoverageTests {
    /// The subcommands a help text lists.
    static func subcommands(in help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:") else { return [] }
        return help[start.upperBound...].split(separator: "\n").prefix { !$0.hasPrefix("  See ") && !$0.isEmpty }
            .compactMap { line -> String? in
                guard line.hasPrefix("  "), !line.hasPrefix("    ") else { return nil }
                return line.split(separator: " ").first.map(String.init)
            }
    }

    @Test func everyHelpTextReadsCleanly() async throws {
        try await VouchProcess.withScratchDirectory { vouch in
            var queue: [[String]] = [[]]
            var seen = 0
            while let words = queue.popLast() {
                let help = try await vouch.run(words + ["--help"])
                #expect(help.status == 0, "\(words): \(help)")
                #expect(!help.standardOutput.contains("\\"), "a stray backslash in vouch \(words.joined(separator: " ")) --help: \(help.standardOutput)")
                seen += 1
                for name in Self.subcommands(in: help.standardOutput) where name != "help" {
                    queue.append(words + [name])
                }
            }
            #expect(seen > 60, "only \(seen) commands were found")
        }
    }
}
