import VouchKit
import VouchStore

/// The transparency log's entries: entry `i` is the event of sequence number `i + 1`, written as
/// RFC 8785 canonical JSON with the members `actor`, `at`, `data`, `kind`, `seq` and `subject`:
///
/// ```json
/// {"actor":"device:dev_…","at":1795305600,"data":{"did":"did:key:…","group":"factory"},"kind":"device.enrolled","seq":42,"subject":"dev_…"}
/// ```
///
/// The event's `data` is stored as canonical JSON (migration 0005 made every older row so) and is
/// copied verbatim; the keys above are already in canonical order.
enum LogEntry {
    static func encode(_ event: EventRecord) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(96 + event.dataText.utf8.count + event.subject.utf8.count + event.actor.utf8.count + event.kind.utf8.count)
        output.append(contentsOf: #"{"actor":"#.utf8)
        JSONValue.writeCanonical(string: event.actor, into: &output)
        output.append(contentsOf: #","at":"#.utf8)
        output.append(contentsOf: String(event.at).utf8)
        output.append(contentsOf: #","data":"#.utf8)
        output.append(contentsOf: event.dataText.utf8)
        output.append(contentsOf: #","kind":"#.utf8)
        JSONValue.writeCanonical(string: event.kind, into: &output)
        output.append(contentsOf: #","seq":"#.utf8)
        output.append(contentsOf: String(event.seq).utf8)
        output.append(contentsOf: #","subject":"#.utf8)
        JSONValue.writeCanonical(string: event.subject, into: &output)
        output.append(UInt8(ascii: "}"))
        return output
    }

    /// The entry's index in the log.
    static func index(of event: EventRecord) -> UInt64 { UInt64(event.seq - 1) }
}
