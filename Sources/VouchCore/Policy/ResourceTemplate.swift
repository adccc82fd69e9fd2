import Foundation
import VouchKit

/// Why a device's values cannot fill a resource's variables.
struct ExpansionFailure: Error {
    let reason: String
}

/// A resource as written in a policy: text with variables filled in per device.
struct ResourceTemplate: Sendable, Hashable, CustomStringConvertible {
    enum Piece: Sendable, Hashable {
        case text(String)
        case variable(PolicyVariable)
    }

    let pieces: [Piece]
    let description: String

    /// Parses `${…}` variables; checks that the pattern is valid whatever the variables hold.
    init(_ text: String) throws(AuthorizationError) {
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            if start.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<start.lowerBound]))) }
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw AuthorizationError.invalidPattern("\"\(text.prefix(80))\" opens a variable with ${ and never closes it")
            }
            let name = String(rest[start.upperBound..<end])
            guard let variable = PolicyVariable(name: name) else {
                throw AuthorizationError.invalidPattern(
                    "unknown variable ${\(name.prefix(64))}; use ${device.id}, ${device.did}, ${device.zone}, ${device.group} or ${device.ATTRIBUTE}"
                )
            }
            pieces.append(.variable(variable))
            rest = rest[rest.index(after: end)...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
        self.description = text
        // A variable stands for one plain piece of a segment: try the pattern with a placeholder.
        _ = try ResourcePattern(pieces.map { piece in
            if case .text(let value) = piece { return value }
            return "v"
        }.joined())
    }

    /// The pattern for `device`, or why the device's values cannot fill it. With `widening` (for
    /// denies), a value that cannot fill its variable becomes `*`, so that the deny covers more,
    /// never less: a device cannot lift a deny by choosing its own attributes.
    func expand(_ device: DeviceFacts, widening: Bool = false) -> Result<ResourcePattern, ExpansionFailure> {
        var text = ""
        for piece in pieces {
            switch piece {
            case .text(let value):
                text += value
            case .variable(let variable):
                let value = variable.value(device) ?? ""
                guard !value.isEmpty, Self.isUsable(value) else {
                    if widening {
                        text += "*"
                        continue
                    }
                    let why = value.isEmpty
                        ? "\(variable) has no value for device \(device.id)"
                        : "\(variable) of device \(device.id) holds '/', '+', '#', '*', '$', a control character, or is . or .., which a resource variable cannot"
                    return .failure(ExpansionFailure(reason: why))
                }
                text += value
            }
        }
        do {
            return .success(try ResourcePattern(text))
        } catch {
            return .failure(ExpansionFailure(reason: error.reason))
        }
    }

    /// Values that fill a variable as plain text: never a wildcard, never a segment separator.
    static func isUsable(_ value: String) -> Bool {
        value != "." && value != ".."
            && !value.utf8.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0x2F || $0 == 0x2B || $0 == 0x23 || $0 == 0x2A || $0 == 0x24 }
    }

    var hasVariables: Bool {
        pieces.contains { if case .variable = $0 { return true } else { return false } }
    }
}
