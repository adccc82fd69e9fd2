import Foundation
import VouchKit
import Yams

/// A policy document as read, before validation: YAML or JSON reduced to strings, lists and
/// maps, each with where it was written, so that every problem can name its place.
indirect enum PolicyNode: Sendable {
    case scalar(String, PolicyLocation)
    case null(PolicyLocation)
    case list([PolicyNode], PolicyLocation)
    case map([(key: String, value: PolicyNode)], PolicyLocation)

    var location: PolicyLocation {
        switch self {
        case .scalar(_, let location), .null(let location), .list(_, let location), .map(_, let location): location
        }
    }

    /// What the node is, for messages.
    var kind: String {
        switch self {
        case .scalar: "a string"
        case .null: "empty"
        case .list: "a list"
        case .map: "a map"
        }
    }

    /// The most nodes a document may hold; aliases that multiply a small text are refused by this.
    static let maximumNodes = 20_000

    /// Reads YAML, or JSON (a document starting with `{`).
    static func parse(_ text: String) throws(PolicyDocumentError) -> PolicyNode {
        var budget = maximumNodes
        // JSON is read as JSON (YAML 1.1 readers differ on some JSON escapes); a document that
        // starts with "{" but is not JSON is YAML in flow style, and read as YAML.
        if text.drop(while: { $0.isWhitespace }).first == "{", let value = try? JSONValue(parsing: Data(text.utf8)) {
            return try from(json: value, budget: &budget)
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            var problem = Self.problem(error)
            if let item = Self.unquotedVariableInFlow(text, near: problem.location) {
                problem = PolicyProblem(
                    path: problem.path, location: problem.location,
                    message: problem.message + "; in a [...] list, { and } are YAML syntax: quote a value that holds ${…}, as \"\(item)\"")
            }
            throw PolicyDocumentError([problem])
        } catch {
            throw PolicyDocumentError([PolicyProblem(path: "", location: .unknown, message: "the document is not valid YAML")])
        }
        guard let node else { return .null(PolicyLocation(line: 1, column: 1)) }
        return try from(yaml: node, budget: &budget)
    }

    private static func from(yaml node: Node, budget: inout Int) throws(PolicyDocumentError) -> PolicyNode {
        budget -= 1
        let location = PolicyLocation(node.mark)
        guard budget >= 0 else {
            throw PolicyDocumentError([PolicyProblem(path: "", location: location, message: "the document holds more than \(maximumNodes) values")])
        }
        switch node {
        case .scalar(let scalar):
            if node.null != nil && scalar.style == .plain { return .null(location) }
            return .scalar(scalar.string, location)
        case .sequence(let sequence):
            var items: [PolicyNode] = []
            for item in sequence { items.append(try from(yaml: item, budget: &budget)) }
            return .list(items, location)
        case .mapping(let mapping):
            var pairs: [(key: String, value: PolicyNode)] = []
            for (key, value) in mapping {
                guard case .scalar(let scalar) = key else {
                    throw PolicyDocumentError([PolicyProblem(path: "", location: PolicyLocation(key.mark), message: "map keys must be plain strings")])
                }
                pairs.append((scalar.string, try from(yaml: value, budget: &budget)))
            }
            return .map(pairs, location)
        case .alias:
            throw PolicyDocumentError([PolicyProblem(path: "", location: location, message: "YAML aliases are not supported in policies")])
        }
    }

    private static func from(json value: JSONValue, budget: inout Int) throws(PolicyDocumentError) -> PolicyNode {
        budget -= 1
        guard budget >= 0 else {
            throw PolicyDocumentError([PolicyProblem(path: "", location: .unknown, message: "the document holds more than \(maximumNodes) values")])
        }
        switch value {
        case .null: return .null(.unknown)
        case .bool(let flag): return .scalar(flag ? "true" : "false", .unknown)
        case .number(let number): return .scalar(number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number), .unknown)
        case .string(let text): return .scalar(text, .unknown)
        case .array(let items):
            var nodes: [PolicyNode] = []
            for item in items { nodes.append(try from(json: item, budget: &budget)) }
            return .list(nodes, .unknown)
        case .object(let members):
            var pairs: [(key: String, value: PolicyNode)] = []
            for (key, member) in members.sorted(by: { $0.key < $1.key }) { pairs.append((key, try from(json: member, budget: &budget))) }
            return .map(pairs, .unknown)
        }
    }

    /// The unquoted `ACTION:RESOURCE` with a `${…}` on the line of a YAML error (or the one before),
    /// inside a flow list, where `{` and `}` are YAML syntax: what the author most likely meant, quoted.
    static func unquotedVariableInFlow(_ text: String, near location: PolicyLocation) -> String? {
        guard let reported = location.line else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for number in [reported, reported - 1] where number >= 1 && number <= lines.count {
            let line = lines[number - 1]
            guard line.contains("["), let dollar = line.range(of: "${") else { continue }
            // The item holding it: back to the list's "[" or ",", forward to "]" or ",".
            let before = line[..<dollar.lowerBound]
            guard !before.contains("\"") && !before.contains("'") else { continue }
            let start = before.lastIndex(where: { $0 == "[" || $0 == "," }).map { line.index(after: $0) } ?? line.startIndex
            let rest = line[dollar.lowerBound...]
            let end = rest.firstIndex(where: { $0 == "]" || $0 == "," }) ?? line.endIndex
            return line[start..<end].trimmingCharacters(in: .whitespaces)
        }
        return nil
    }

    private static func problem(_ error: YamlError) -> PolicyProblem {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return PolicyProblem(path: "", location: PolicyLocation(mark), message: "not valid YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, _):
            return PolicyProblem(path: "", location: .unknown, message: "a map repeats the key \(duplicates.joined(separator: ", "))")
        default:
            return PolicyProblem(path: "", location: .unknown, message: "not valid YAML")
        }
    }
}

