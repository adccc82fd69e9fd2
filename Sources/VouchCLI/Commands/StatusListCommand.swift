import ArgumentParser
import Foundation
import VouchKit

/// `vouch status-list`: create, update and check local W3C Bitstring Status List files.
///
/// The file is the JSON object that `StatusListFile` reads and writes. Every input problem a person
/// can fix (an unreadable file, an index that is not a number or is out of range, a size that is too
/// small) is reported as a `ValidationError` whose message says what to do.
struct StatusListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status-list",
        abstract: "Create, update and check W3C Bitstring Status List files.",
        discussion: """
            A status list file holds one bit per credential: a set bit means the credential at that \
            index is revoked (or suspended, for a suspension list). Publish its encodedList in a \
            BitstringStatusListCredential.
            """,
        subcommands: [New.self, SetEntries.self, Check.self]
    )
}

extension StatusListCommand {
    /// `vouch status-list new`: writes a status list file with every entry clear.
    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Create a status list file with every entry clear."
        )

        /// The `--purpose` values: what a set entry means.
        enum Purpose: String, CaseIterable, ExpressibleByArgument {
            case revocation
            case suspension

            /// The VouchKit value with the same meaning.
            var statusPurpose: StatusPurpose {
                switch self {
                case .revocation: .revocation
                case .suspension: .suspension
                }
            }
        }

        @Option(help: ArgumentHelp(
            "Number of entries: at least \(BitstringStatusList.minimumSize) and a multiple of 8.",
            valueName: "n"
        ))
        var size: String = String(BitstringStatusList.minimumSize)

        @Option(help: ArgumentHelp("Where to write the status list file.", valueName: "file"))
        var out: String

        @Option(help: "What a set entry means.")
        var purpose: Purpose = .revocation

        @Flag(help: "Replace the output file if it already exists.")
        var force = false

        func run() throws {
            guard let entries = Int(size) else {
                throw ValidationError(
                    "'\(size)' is not a list size: give --size a whole number of entries, at least \(BitstringStatusList.minimumSize) and a multiple of 8."
                )
            }
            let list = try StatusListCommand.validating { try BitstringStatusList(size: entries) }
            if !force, FileManager.default.fileExists(atPath: out) {
                throw ValidationError(
                    "\(out) already exists and was left unchanged: pass --force to replace it, or choose another --out path."
                )
            }
            let file = StatusListFile(statusPurpose: purpose.statusPurpose, list: list)
            try StatusListCommand.validating { try file.save(to: out, replacingExisting: force) }
        }
    }

    /// `vouch status-list set`: sets (or, with `--clear`, clears) entries and rewrites the file atomically.
    struct SetEntries: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set",
            abstract: "Set entries of a status list file (or clear them with --clear).",
            discussion: """
                Every index is checked before anything is written; the file is then replaced \
                atomically, so readers see either the old list or the new one.
                """
        )

        @Argument(help: ArgumentHelp("The status list file to update.", valueName: "file"))
        var file: String

        @Argument(help: ArgumentHelp("The indices of the entries to change, from 0.", valueName: "index"))
        var indices: [String]

        @Flag(help: "Clear the entries instead of setting them.")
        var clear = false

        func run() throws {
            var statusList = try StatusListCommand.load(file)
            let parsed = try indices.map { try StatusListCommand.index($0, in: statusList, path: file) }
            for index in parsed {
                try StatusListCommand.validating {
                    if clear {
                        try statusList.list.clear(index)
                    } else {
                        try statusList.list.set(index)
                    }
                }
            }
            try StatusListCommand.validating { try statusList.save(to: file, replacingExisting: true) }
        }
    }

    /// `vouch status-list check`: prints `1` if an entry is set and `0` if it is clear.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Print 1 if an entry is set, 0 if it is clear."
        )

        @Argument(help: ArgumentHelp("The status list file to read.", valueName: "file"))
        var file: String

        @Argument(help: ArgumentHelp("The index of the entry, from 0.", valueName: "index"))
        var index: String

        func run() throws {
            let statusList = try StatusListCommand.load(file)
            let entry = try StatusListCommand.index(index, in: statusList, path: file)
            let isSet = try StatusListCommand.validating { try statusList.list.isSet(entry) }
            print(isSet ? "1" : "0")
        }
    }
}

extension StatusListCommand {
    /// Runs `body`, turning a `VouchKitError` into a `ValidationError` with the same sentence.
    static func validating<Result>(_ body: () throws -> Result) throws -> Result {
        do {
            return try body()
        } catch let error as VouchKitError {
            throw ValidationError(error.reason)
        }
    }

    /// Loads the status list file at `path`, or explains why it cannot be used.
    static func load(_ path: String) throws -> StatusListFile {
        try validating { try StatusListFile.load(from: path) }
    }

    /// Parses `text` as an index of `file`'s list, or explains what a valid index is.
    static func index(_ text: String, in file: StatusListFile, path: String) throws -> Int {
        let size = file.list.size
        guard let index = Int(text) else {
            throw ValidationError(
                "'\(text)' is not a status list index: give a whole number from 0 to \(size - 1)."
            )
        }
        guard (0..<size).contains(index) else {
            throw ValidationError(
                "Index \(index) is out of range: \(path) has \(size) entries, so give an index from 0 to \(size - 1)."
            )
        }
        return index
    }
}
