import Foundation
import VouchCore
import VouchKit

/// An event about to be appended: its data is written as canonical JSON, once, here.
package struct EventDraft: Sendable {
    package var kind: EventKind
    package var subject: String
    package var actor: String
    /// The data object as canonical JSON (RFC 8785), as the log publishes it.
    package let dataText: String

    /// `actor` may be left for `EventRecorder` to fill in.
    package init(kind: EventKind, subject: String, actor: String = "", data: [String: JSONValue] = [:]) {
        self.kind = kind
        self.subject = subject
        self.actor = actor
        self.dataText = String(decoding: JSONValue.object(data).canonicalJSON, as: UTF8.self)
    }

    /// The bytes the event's members take in its log entry (without the entry's fixed frame).
    package var byteCount: Int {
        dataText.utf8.count + subject.utf8.count + actor.utf8.count + kind.rawValue.utf8.count
    }
}

/// An event as stored. `kind` and `dataText` are kept as the text the transparency log hashes.
package struct EventRecord: Codable, Sendable, Hashable {
    package var seq: Int
    package var at: Int
    /// The kind as stored (an `EventKind`'s raw value).
    package var kind: String
    package var subject: String
    package var actor: String
    /// The data object as canonical JSON.
    package var dataText: String

    package init(seq: Int, at: Int, kind: String, subject: String, actor: String, dataText: String) {
        self.seq = seq
        self.at = at
        self.kind = kind
        self.subject = subject
        self.actor = actor
        self.dataText = dataText
    }

    enum CodingKeys: String, CodingKey {
        case seq, at, kind, subject, actor
        case dataText = "data"
    }

    /// The kind, when this version knows it.
    package var eventKind: EventKind? { EventKind(rawValue: kind) }

    /// The data object.
    package func data() throws -> JSONValue {
        do {
            return try JSONValue(parsing: Data(dataText.utf8))
        } catch {
            throw StoreError.corrupt("event \(seq) holds data that is not JSON: \(error)")
        }
    }
}

/// What caches follow of an event: its sequence number, kind and subject.
package struct EventSummary: Sendable, Hashable {
    package var seq: Int
    package var kind: EventKind?
    package var subject: String

    package init(seq: Int, kind: EventKind?, subject: String) {
        self.seq = seq
        self.kind = kind
        self.subject = subject
    }
}
