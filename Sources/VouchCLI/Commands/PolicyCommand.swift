import ArgumentParser
import Foundation
import VouchAPI
import VouchCore
import VouchKit

/// `vouch policy …`: write, check and upload policies.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Zones, roles and flows: validate and dry-run a policy, upload it, read versions.",
        subcommands: [Validate.self, Test.self, Upload.self, Show.self, Versions.self]
    )

    /// Reads and validates a policy file; prints every problem and exits 1 when there are any.
    static func load(_ path: String) throws -> PolicyDocument {
        let text = try CLIInput.readText(path)
        do {
            return try PolicyDocument(parsing: text)
        } catch {
            for problem in error.problems { CLIOutput.error("\(path): \(problem)") }
            CLIOutput.error("Error: the policy has \(error.problems.count) problem\(error.problems.count == 1 ? "" : "s")")
            throw ExitCode(1)
        }
    }

    struct Validate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a policy file (YAML or JSON) offline: every problem with its place; exit 1 when there are any.")
        @Argument(help: "The policy file.") var policy: String

        func run() async throws {
            let document = try PolicyCommand.load(policy)
            print("policy valid: \(Plural.count(document.zones.count, "zone")), \(Plural.count(document.roles.count, "role")), \(Plural.count(document.flows.count, "flow"))")
        }
    }

    struct Test: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Dry-run a policy against expected decisions; exit 1 when any case fails.",
            discussion: """
                CASES lists devices and cases:
                  devices:
                    sensor-1: {zone: line-3, roles: [sensor], attributes: {model: t1000}}
                  cases:
                    - {subject: sensor-1, action: publish, resource: telemetry/sensor-1/temp, expect: allow}
                    - {subject: sensor-1, action: publish, resource: telemetry/x, expect: deny, context: {peer: ops-1}}
                """
        )
        @Argument(help: "The policy file.") var policy: String
        @Option(help: "The cases file (YAML or JSON).") var cases: String
        @Flag(help: "Print every case, not only failures.") var verbose = false
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let document = try PolicyCommand.load(policy)
            let suite: PolicyTestSuite
            do {
                suite = try PolicyTestSuite(parsing: try CLIInput.readText(cases))
            } catch let error as PolicyDocumentError {
                for problem in error.problems { CLIOutput.error("\(cases): \(problem)") }
                throw ExitCode(2)
            }
            let results = suite.run(CompiledPolicy(version: 0, document: document))
            let failed = results.filter { !$0.passed }
            if json {
                CLIOutput.json(.object([
                    "passed": .number(Double(results.count - failed.count)), "failed": .number(Double(failed.count)),
                    "cases": .array(results.map { result in
                        .object([
                            "name": .string(result.testCase.name), "passed": .bool(result.passed),
                            "expected": .string(result.testCase.expectAllow ? "allow" : "deny"),
                            "decision": .string(result.decision.allowed ? "allow" : "deny"),
                            "reasons": .array(result.decision.reasons.map { .string($0.description) }),
                        ])
                    }),
                ]))
            } else {
                for result in results where verbose || !result.passed {
                    let request = result.testCase.request
                    let line = "\(result.passed ? "pass" : "FAIL") \(result.testCase.name): \(result.testCase.subject.id) \(request.action) \(request.resource)"
                        + (request.context.peer.map { " (peer \($0))" } ?? "")
                        + ": expected \(result.testCase.expectAllow ? "allow" : "deny"), got \(result.decision.allowed ? "allow" : "deny")"
                    print(line)
                    if !result.passed || verbose {
                        for reason in result.decision.reasons { print("    \(reason)") }
                    }
                }
                print("\(results.count - failed.count) of \(results.count) cases pass")
            }
            if !failed.isEmpty { throw ExitCode(1) }
        }
    }

    struct Upload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upload a policy file as the new version; the server checks it again and lists any problem.")
        @OptionGroup var connection: AdminConnection
        @Argument(help: "The policy file.") var policy: String
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let text = try CLIInput.readText(policy)
            let answer: PolicyUploadAnswer
            do {
                answer = try await connection.client().uploadPolicy(text)
            } catch let error as VouchClientError where error.code == .refused {
                for problem in error.problem?.problems ?? [] {
                    let line = problem["line"]?.intValue.map { " (line \($0))" } ?? ""
                    CLIOutput.error("\(policy): \(problem["path"]?.stringValue ?? "")\(line): \(problem["message"]?.stringValue ?? "")")
                }
                throw error
            }
            if json { return CLIOutput.json(answer) }
            let version = answer.policy.version
            print(answer.created ? "policy version \(version) is in force" : "unchanged: policy version \(version) is already in force")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the policy in force, or another version, as uploaded.")
        @OptionGroup var connection: AdminConnection
        @Option(help: "A version number.") var version: Int?
        @Flag(help: "Print JSON (with version, digest, author).") var json = false

        func run() async throws {
            let answer = try await connection.client().policy(version: version)
            if json { return CLIOutput.json(answer) }
            let source = answer.source ?? ""
            if source.isEmpty {
                CLIOutput.error("no policy has been uploaded: every request is denied")
                return
            }
            print(source, terminator: source.hasSuffix("\n") ? "" : "\n")
        }
    }

    struct Versions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List policy versions, newest first.")
        @OptionGroup var connection: AdminConnection
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let versions = try await connection.client().policyVersions()
            if json { return CLIOutput.json(versions) }
            for version in versions {
                let created = Date(timeIntervalSince1970: TimeInterval(version.createdAt))
                print("\(version.version)\t\(RFC3339.format(created))\t\(version.actor)\t\(version.digest)")
            }
        }
    }
}

/// `vouch authorize`: ask the server for a decision.
struct AuthorizeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authorize",
        abstract: "Ask the server whether a device may act: allow (exit 0) or deny (exit 1), with the reasons."
    )
    @OptionGroup var connection: AdminConnection
    @Option(help: "The device: id, DID, or a file holding a vp+jwt it presented.") var subject: String
    @Option(help: "The action, such as publish.") var action: String
    @Option(help: "The resource, such as telemetry/dev-1/temp.") var resource: String
    @Option(help: "The device on the other end (id or DID).") var peer: String?
    @Option(name: .customLong("source-address"), help: "Where the request comes from.") var sourceAddress: String?
    @Option(help: "When (RFC 3339); now by default.") var time: String?
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        var subjectText = subject
        if FileManager.default.fileExists(atPath: subject) {
            subjectText = try CLIInput.readText(subject).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let context = peer == nil && sourceAddress == nil && time == nil ? nil : AuthorizeBody.Context(peer: peer, sourceAddress: sourceAddress, time: time)
        let answer = try await connection.client().authorize(AuthorizeBody(subject: subjectText, action: action, resource: resource, context: context))
        if json {
            CLIOutput.json(answer)
        } else {
            let version = answer.policyVersion.map { " (policy version \($0))" } ?? ""
            print("\(answer.decision)\(version)")
            for reason in answer.reasons {
                print("    \(reason.message)" + (reason.source.map { " (\($0))" } ?? ""))
            }
        }
        if !answer.allowed { throw ExitCode(1) }
    }
}
