/// An error from the persistence layer.
package struct StoreError: Error, Sendable, CustomStringConvertible {
    package enum Code: Sendable, Hashable {
        case unavailable, invalidConfiguration, notFound, conflict, corrupt
    }

    package let code: Code
    package let reason: String

    package var description: String { reason }

    package static func unavailable(_ reason: String) -> Self { Self(code: .unavailable, reason: reason) }
    package static func invalidConfiguration(_ reason: String) -> Self { Self(code: .invalidConfiguration, reason: reason) }
    package static func notFound(_ reason: String) -> Self { Self(code: .notFound, reason: reason) }
    package static func conflict(_ reason: String) -> Self { Self(code: .conflict, reason: reason) }
    package static func corrupt(_ reason: String) -> Self { Self(code: .corrupt, reason: reason) }
}
