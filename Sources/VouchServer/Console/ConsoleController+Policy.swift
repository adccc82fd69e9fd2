import Foundation
import HTTPTypes
import Hummingbird
import VouchAPI
import VouchCore
import VouchKit

/// The policy page: versions, a diff between any two, and a new policy checked (every problem at
/// its line and column) and dry-run against test cases before it is put in force.
extension ConsoleController {
    /// The largest policy the console takes: what `PUT /v1/admin/policy` takes.
    static var policyLimit: Int { 64 * 1024 }

    @Sendable func policy(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        func number(_ name: String) throws -> Int? {
            guard let text = query[Substring(name)], !text.isEmpty else { return nil }
            guard text.utf8.count <= 9, let value = Int(text), value >= 1 else { throw ServiceError.invalidRequest("\(name) must be a policy version (1 or more)") }
            return value
        }
        let shown = try await console.policy.version(try number("version"))
        var values = try await policyValues(shown: shown)
        if let from = try number("from"), let to = try number("to") {
            let old = try await console.policy.version(from)
            let new = try await console.policy.version(to)
            let diff = try LineDiff(old: old.source ?? "", new: new.source ?? "")
            values["diff"] = [
                "from": from, "to": to, "changed": diff.changed,
                "lines": diff.lines.map { ["sign": $0.change.rawValue, "text": $0.text, "number": $0.number, "kind": "\($0.change)"] },
            ] as [String: Any]
        }
        // Said only when it is true: a link cannot make the page claim another version.
        if let done = query["done"], let version = Int(done), version == (try await console.policy.versions().map(\.version).max()) {
            values["notice"] = "Version \(version) is in force."
        }
        values["source"] = shown.source ?? ""
        values["cases"] = Self.exampleCases
        return page("policy", values, "Policy", .policy, request, context, live: "policy")
    }

    /// What every policy page shows: the versions and the one on display.
    func policyValues(shown: PolicyVersionView) async throws -> [String: Any] {
        let versions = try await console.policy.versions()
        let current = versions.map(\.version).max() ?? 0
        return [
            "versions": versions.map { version -> [String: Any] in
                ["version": version.version, "created": ConsoleFormat.time(version.createdAt), "actor": version.actor,
                 "digest": String(version.digest.prefix(16)), "zones": version.zones.count, "roles": version.roles.count, "flows": version.flows,
                 "current": version.version == current, "href": "/console/policy?version=\(version.version)"]
            },
            "hasVersions": !versions.isEmpty,
            "choices": versions.map { ["version": $0.version] },
            "shown": shown.version, "shownLines": Self.numbered(shown.source ?? "", problems: [:]),
            "compareFrom": max(1, current - 1), "compareTo": current,
        ]
    }

    /// A text as numbered lines, each with an anchor and the problems found on it.
    static func numbered(_ text: String, problems: [Int: [String]]) -> [[String: Any]] {
        text.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map { index, line in
            let found = problems[index + 1] ?? []
            return ["number": index + 1, "text": String(line), "problem": !found.isEmpty, "problems": found.joined(separator: "; ")]
        }
    }

    static let exampleCases = """
        devices:
          sensor-1: {zone: default, roles: [sensor]}
        cases:
          - {subject: sensor-1, action: publish, resource: telemetry/sensor-1/temp, expect: allow}
        """

    /// `POST /console/policy`: checks a policy and dry-runs the cases; with `intent=apply`, and
    /// nothing wrong, puts it in force through the policy service (which checks it again).
    @Sendable func checkPolicy(_ request: Request, context: VouchRequestContext) async throws -> Response {
        let form = try await checkedForm(request, context)
        let apply = form["intent"] == "apply"
        if apply { try context.apiKey.require(.operator) }
        guard let sent = form["source"], !sent.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ServiceError.invalidRequest("paste the policy (YAML or JSON) into the policy field")
        }
        guard sent.utf8.count <= Self.policyLimit else { throw ServiceError.tooLarge("a policy is at most \(Self.policyLimit / 1024) KiB") }
        let source = sent.replacingOccurrences(of: "\r\n", with: "\n")
        let casesText = (form["cases"] ?? "").replacingOccurrences(of: "\r\n", with: "\n")
        var problems: [PolicyProblem] = []
        var document: PolicyDocument?
        do throws(PolicyDocumentError) {
            document = try PolicyDocument(parsing: source)
        } catch {
            problems = error.problems
        }
        var caseProblems: [PolicyProblem] = []
        var results: [PolicyTestSuite.Result] = []
        if !casesText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            do throws(PolicyDocumentError) {
                let suite = try PolicyTestSuite(parsing: casesText)
                if let document { results = suite.run(CompiledPolicy(version: 0, document: document)) }
            } catch {
                caseProblems = error.problems
            }
        }
        let failed = results.filter { !$0.passed }
        if apply, problems.isEmpty, caseProblems.isEmpty, failed.isEmpty {
            let (view, _) = try await console.policy.upload(source, actor: context.actor)
            return Self.redirect("/console/policy?done=\(view.version)")
        }
        let shown = try await console.policy.version(nil)
        var values = try await policyValues(shown: shown)
        var byLine: [Int: [String]] = [:]
        for problem in problems {
            byLine[problem.location.line ?? 1, default: []].append((problem.path.isEmpty ? "" : problem.path + ": ") + problem.message)
        }
        values["source"] = source
        values["cases"] = casesText
        values["checked"] = [
            "problems": problems.map { problem -> [String: Any] in
                ["line": problem.location.line ?? 1, "column": problem.location.column.map(String.init) ?? "–", "path": problem.path, "message": problem.message]
            },
            "hasProblems": !problems.isEmpty, "problemCount": problems.count,
            "lines": Self.numbered(source, problems: byLine),
            "caseProblems": caseProblems.map { ["text": $0.description] }, "hasCaseProblems": !caseProblems.isEmpty,
            "results": results.map { result -> [String: Any] in
                let request = result.testCase.request
                return ["name": result.testCase.name, "passed": result.passed, "subject": result.testCase.subject.id, "action": request.action,
                        "resource": request.resource, "expected": result.testCase.expectAllow ? "allow" : "deny",
                        "decision": result.decision.allowed ? "allow" : "deny", "reasons": result.decision.reasons.map(\.description).joined(separator: "; ")]
            },
            "hasResults": !results.isEmpty, "passed": results.count - failed.count, "total": results.count,
            "ready": problems.isEmpty && caseProblems.isEmpty && failed.isEmpty, "refused": apply,
        ] as [String: Any]
        let status: HTTPResponse.Status = problems.isEmpty && caseProblems.isEmpty && failed.isEmpty ? .ok : .unprocessableContent
        return page("policy", values, "Policy", .policy, request, context, status: status)
    }
}
