import Foundation
import VouchKit
import Yams

/// Where something was written in a policy document (YAML only; JSON has no positions).
public struct PolicyLocation: Sendable, Hashable {
    /// From 1.
    public let line: Int?
    /// From 1, in Unicode scalars.
    public let column: Int?

    static let unknown = PolicyLocation(line: nil, column: nil)

    init(line: Int?, column: Int?) {
        self.line = line
        self.column = column
    }

    init(_ mark: Mark?) {
        self.init(line: mark?.line, column: mark?.column)
    }
}

/// One thing wrong with a policy document: where, and what.
public struct PolicyProblem: Sendable, Hashable, CustomStringConvertible {
    /// The path to the value, such as `roles.sensor.allow[2]`; empty for the document itself.
    public let path: String
    /// Where, when known.
    public let location: PolicyLocation
    /// What is wrong and how to put it right.
    public let message: String

    public var description: String {
        var place = path.isEmpty ? "" : path
        if let line = location.line {
            place += (place.isEmpty ? "" : " ") + "(line \(line)" + (location.column.map { ", column \($0)" } ?? "") + ")"
        }
        return place.isEmpty ? message : "\(place): \(message)"
    }
}

/// A policy document that cannot be used, with every problem found.
public struct PolicyDocumentError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Every problem, in the order written.
    public let problems: [PolicyProblem]

    init(_ problems: [PolicyProblem]) {
        self.problems = problems
    }

    public var description: String {
        problems.count == 1 ? problems[0].description : "\(problems.count) problems: " + problems.map(\.description).joined(separator: "; ")
    }
}
