import Foundation

/// A status list kept in a local JSON file, as `vouch status-list new` writes it and
/// `vouch status-list set` edits it:
///
/// ```json
/// {
///   "type" : "BitstringStatusList",
///   "statusPurpose" : "revocation",
///   "size" : 131072,
///   "encodedList" : "uH4sI..."
/// }
/// ```
///
/// `type`, `statusPurpose` and `encodedList` mean what they mean in a W3C
/// `BitstringStatusListCredential`'s subject; `size` repeats the number of entries so that a person
/// reading the file can see it, and must agree with `encodedList`.
package struct StatusListFile: Sendable, Hashable {
    /// The largest file ``load(from:)`` reads: far more than the JSON of the largest list needs.
    private static let maximumFileSize = 64 * 1024 * 1024

    /// The value of the file's `type` member.
    package static let type = "BitstringStatusList"

    /// What a set bit in ``list`` means.
    package var statusPurpose: StatusPurpose

    /// The bits themselves.
    package var list: BitstringStatusList

    /// Creates a file's contents from a purpose and a list.
    package init(statusPurpose: StatusPurpose, list: BitstringStatusList) {
        self.statusPurpose = statusPurpose
        self.list = list
    }

    /// Reads and decodes the status list file at `path`.
    ///
    /// - Throws: ``VouchKitError/io(_:)`` when the file cannot be read, and
    ///   ``VouchKitError/malformedInput(_:)`` when it is not a valid status list file (bad JSON, a
    ///   wrong `type`, an `encodedList` that does not decode, a `size` that disagrees with it); each
    ///   reason names the path.
    package static func load(from path: String) throws -> StatusListFile {
        let data: Data
        do {
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            guard size <= maximumFileSize else {
                throw VouchKitError.malformedInput(
                    "\(path) is not a status list file: it is \(size) bytes long, more than the \(maximumFileSize / (1024 * 1024)) MiB any status list file needs."
                )
            }
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch let error as VouchKitError {
            throw error
        } catch {
            throw VouchKitError.io("Cannot read the status list file \(path): \(Self.describe(error))")
        }
        do {
            return try JSONDecoder().decode(StatusListFile.self, from: data)
        } catch let error as VouchKitError {
            throw VouchKitError.malformedInput("\(path) is not a usable status list file. \(error.reason)")
        } catch let error as DecodingError {
            throw VouchKitError.malformedInput("\(path) is not a status list file: \(Self.describe(error)).")
        } catch {
            throw VouchKitError.malformedInput("\(path) is not a status list file: \(error).")
        }
    }

    /// Writes the file to `path` atomically: the JSON goes to a temporary file in the same folder,
    /// which is then renamed over `path`, so a reader sees the old file or the new one, never a
    /// partial one.
    ///
    /// - Parameters:
    ///   - path: Where to write.
    ///   - replacingExisting: Whether an existing file at `path` may be replaced. When `false` and
    ///     the file exists, nothing is written.
    /// - Throws: ``VouchKitError/io(_:)`` when writing fails or the file exists and may not be
    ///   replaced.
    package func save(to path: String, replacingExisting: Bool) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
        var data: Data
        do {
            data = try encoder.encode(self)
        } catch {
            throw VouchKitError.io("Cannot encode the status list file \(path): \(error).")
        }
        data.append(UInt8(ascii: "\n"))

        try AtomicFile.write(data, to: path, replacingExisting: replacingExisting)
    }

    /// A short account of a Foundation error for a person.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? DecodingError {
            switch error {
            case .keyNotFound(let key, _):
                return "the member \"\(key.stringValue)\" is missing"
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                return "the member \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" has the wrong type"
            case .dataCorrupted(let context):
                return context.codingPath.isEmpty
                    ? "it is not valid JSON"
                    : "the member \"\(context.codingPath.map(\.stringValue).joined(separator: "."))\" is invalid: \(context.debugDescription)"
            @unknown default:
                return "\(error)"
            }
        }
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey].flatMap({ $0 as? any Error }) {
            let posix = underlying as NSError
            if posix.domain == NSPOSIXErrorDomain {
                return String(cString: strerror(Int32(posix.code))).lowercased() + "."
            }
        }
        return nsError.localizedDescription
    }
}

extension StatusListFile: Codable {
    private enum CodingKeys: String, CodingKey {
        case type
        case statusPurpose
        case size
        case encodedList
    }

    /// Decodes the file's JSON object, checking `type` and that `size` agrees with `encodedList`.
    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        guard type == Self.type else {
            throw VouchKitError.malformedInput(
                "A status list file's type must be \"\(Self.type)\"; this one is \"\(type)\"."
            )
        }
        let purpose = try container.decode(String.self, forKey: .statusPurpose)
        guard let statusPurpose = StatusPurpose(rawValue: purpose) else {
            throw VouchKitError.malformedInput(
                "A status list file's statusPurpose must be \"revocation\" or \"suspension\"; this one is \"\(purpose)\"."
            )
        }
        let size = try container.decode(Int.self, forKey: .size)
        let list = try BitstringStatusList(encodedList: container.decode(String.self, forKey: .encodedList))
        guard list.size == size else {
            throw VouchKitError.malformedInput(
                "A status list file's size must match its encodedList; this one says \(size) entries but its encodedList holds \(list.size)."
            )
        }
        self.init(statusPurpose: statusPurpose, list: list)
    }

    /// Encodes the file's JSON object: `type`, `statusPurpose`, `size` and `encodedList`.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Self.type, forKey: .type)
        try container.encode(statusPurpose, forKey: .statusPurpose)
        try container.encode(list.size, forKey: .size)
        try container.encode(list.encodedList, forKey: .encodedList)
    }
}
