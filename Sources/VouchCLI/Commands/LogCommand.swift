import ArgumentParser
import Foundation
import VouchKit

/// `vouch log`: audits a Vouch server's transparency log, and checks proofs and checkpoints offline.
///
/// Every subcommand prints a line starting with `OK` and exits 0 on success; prints the reasons
/// to standard error and exits 1 when verification fails; and reports unusable input (a hash,
/// key or file it cannot read) as a validation error.
struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Audit a transparency log; verify inclusion proofs, consistency proofs and checkpoints.",
        subcommands: [Verify.self, Monitor.self, VerifyInclusion.self, VerifyConsistency.self, VerifyCheckpoint.self]
    )
}

extension LogCommand {
    /// `vouch log verify-inclusion`: checks an RFC 9162 inclusion proof, or a log receipt.
    struct VerifyInclusion: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-inclusion",
            abstract: "Check that an entry is in a log's Merkle tree.",
            discussion: """
                Either --receipt FILE --key KEY: a receipt (from an enrollment's log-receipts.json, or \
                GET /v1/log/proof/inclusion?index=N) whose entry, proof and signed checkpoint are checked \
                offline against the log's verifier key; or the bare proof with --leaf-hash, --index, \
                --size, --root and --proof. Hashes are 64 hex digits or base64 (standard or URL-safe).
                """
        )

        @Option(help: "A receipt file (JSON: one receipt or an array of them), or - for standard input.")
        var receipt: String?

        @Option(name: .customLong("key"), help: "The log's verifier key, <name>+<key ID>+<base64 key> (with --receipt).")
        var keys: [String] = []

        @Option(help: "The leaf hash, SHA-256(0x00 || entry).")
        var leafHash: String?

        @Option(help: "The zero-based index of the leaf.")
        var index: UInt64?

        @Option(help: "The tree size the proof is for.")
        var size: UInt64?

        @Option(help: "The root hash of the tree at that size.")
        var root: String?

        @Option(help: "The audit path: comma-separated hashes, leaf level first; \"\" when empty.")
        var proof: String?

        func run() async throws {
            if let receipt {
                try verifyReceipts(receipt)
                return
            }
            guard let leafHash, let index, let size, let root, let proof else {
                throw ValidationError("give --receipt FILE --key KEY, or all of --leaf-hash, --index, --size, --root and --proof")
            }
            let leaf = try HashArgument.parse(leafHash, option: "--leaf-hash")
            let rootHash = try HashArgument.parse(root, option: "--root")
            let path = try HashArgument.parseList(proof, option: "--proof")
            let inclusion = InclusionProof(leafIndex: index, treeSize: size, hashes: path)
            try report(
                { () throws(VouchKitError) in try inclusion.verify(leafHash: leaf, rootHash: rootHash) },
                success: "OK leaf \(index) is included in the tree of size \(size) with root \(root)"
            )
        }

        private func verifyReceipts(_ file: String) throws {
            guard !keys.isEmpty else { throw ValidationError("--receipt needs --key: the log's verifier key (GET /v1/log/key)") }
            let verifiers = try LogCommand.verifiers(keys)
            let data = try LogCommand.read(file, what: "receipt")
            let receipts: [LogReceipt]
            if let many = try? JSONDecoder().decode([LogReceipt].self, from: data) {
                receipts = many
            } else {
                do {
                    receipts = [try JSONDecoder().decode(LogReceipt.self, from: data)]
                } catch {
                    throw ValidationError(
                        "\(file) is not a log receipt: a JSON object with index, entry, treeSize, inclusionProof and checkpoint (or an array of them)")
                }
            }
            guard !receipts.isEmpty else { throw ValidationError("\(file) holds no receipts") }
            var reasons: [String] = []
            for receipt in receipts {
                switch receipt.verify(verifiers: verifiers) {
                case .success(let checkpoint):
                    print("OK entry \(receipt.index) is in \(checkpoint.origin) at size \(checkpoint.size), root \(checkpoint.rootHash.base64EncodedString)")
                    print("   \(receipt.entry)")
                case .failure(let rejection):
                    reasons.append(contentsOf: rejection.reasons.map { "entry \(receipt.index): \($0)" })
                }
            }
            if !reasons.isEmpty { throw failure(reasons) }
        }
    }

    /// `vouch log verify-consistency`: checks an RFC 9162 consistency proof.
    struct VerifyConsistency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-consistency",
            abstract: "Check that an older tree head is a prefix of a newer one.",
            discussion: "Hashes are 64 hex digits or base64 (standard or URL-safe)."
        )

        @Option(help: "The size of the older tree.")
        var oldSize: UInt64

        @Option(help: "The root hash of the older tree.")
        var oldRoot: String

        @Option(help: "The size of the newer tree.")
        var size: UInt64

        @Option(help: "The root hash of the newer tree.")
        var root: String

        @Option(help: "The proof: comma-separated hashes; \"\" when the sizes are equal.")
        var proof: String

        func run() async throws {
            let oldRoot = try HashArgument.parse(oldRoot, option: "--old-root")
            let root = try HashArgument.parse(root, option: "--root")
            let hashes = try HashArgument.parseList(proof, option: "--proof")
            let consistency = ConsistencyProof(oldSize: oldSize, newSize: size, hashes: hashes)
            try report(
                { () throws(VouchKitError) in try consistency.verify(oldRoot: oldRoot, newRoot: root) },
                success: "OK the tree of size \(oldSize) is a prefix of the tree of size \(size)"
            )
        }
    }

    /// `vouch log verify-checkpoint`: checks a signed checkpoint note against trusted keys.
    struct VerifyCheckpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-checkpoint",
            abstract: "Check a signed checkpoint and print its origin, size and root hash."
        )

        @Option(
            name: .customLong("key"),
            help: "A trusted verifier key, <name>+<key ID>+<base64 key>; repeat for several."
        )
        var keys: [String]

        @Argument(help: "The signed checkpoint file, or - for standard input.")
        var file: String

        func run() async throws {
            let verifiers = try LogCommand.verifiers(keys)
            guard let note = String(validating: try LogCommand.read(file, what: "checkpoint"), as: UTF8.self) else {
                throw ValidationError("The checkpoint file \(file) is not UTF-8 text.")
            }
            let result: Result<Checkpoint, NoteRejection>
            do {
                result = try Checkpoint.verify(signedNote: note, verifiers: verifiers)
            } catch {
                throw failure(["\(file) is not a well-formed signed checkpoint: \(error.reason)"])
            }
            switch result {
            case .success(let checkpoint):
                print("OK checkpoint verified")
                print("origin: \(checkpoint.origin)")
                print("size: \(checkpoint.size)")
                print("root: \(checkpoint.rootHash.base64EncodedString)")
            case .failure(let rejection):
                throw failure(rejection.reasons)
            }
        }
    }
}

/// Prints `success` for a valid proof; otherwise prints the reason to standard error and throws exit code 1.
private func report(
    _ verify: () throws(VouchKitError) -> MerkleProofVerdict,
    success: String
) throws {
    let verdict: MerkleProofVerdict
    do {
        verdict = try verify()
    } catch {
        throw failure([error.reason])
    }
    switch verdict {
    case .valid:
        print(success)
    case .invalid(let reason):
        throw failure([reason])
    }
}

/// Prints each reason to standard error, prefixed with `FAIL`, and returns exit code 1 to throw.
func failure(_ reasons: [String]) -> ExitCode {
    for reason in reasons {
        FileHandle.standardError.write(Data("FAIL \(reason)\n".utf8))
    }
    return ExitCode(1)
}

extension LogCommand {
    /// Parses `--key` options into note verifiers.
    static func verifiers(_ keys: [String]) throws -> [NoteVerifier] {
        try keys.map { key in
            do throws(VouchKitError) {
                return try NoteVerifier(verifierKey: key)
            } catch {
                throw ValidationError("The --key \"\(key)\" is not a usable note verifier key: \(error.reason).")
            }
        }
    }

    /// The bytes of `file`, or of standard input for `-`.
    static func read(_ file: String, what: String) throws -> Data {
        if file == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ValidationError("Cannot read the \(what) file \(file): \(error.localizedDescription)")
        }
    }
}
