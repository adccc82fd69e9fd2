import ArgumentParser
import Foundation
import VouchAPI
import VouchCore
import VouchKit

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `vouch witness`: an independent process that cosigns a log's checkpoints once it has proved each
/// consistent with every one it cosigned before (C2SP tlog-cosignature, cosignature/v1).
struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Witness a Vouch log: check each new checkpoint's consistency, then cosign it.",
        subcommands: [Run.self, Keygen.self],
        defaultSubcommand: Run.self
    )

    /// What a witness remembers of a log: the last checkpoint it cosigned.
    struct State: Codable {
        var origin: String
        var size: UInt64
        /// Base64 root hash.
        var root: String
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run",
            abstract: "Cosign the log's pending checkpoints (the default subcommand).",
            discussion: """
                Polls GET /v1/log/pending, checks the log's signature and a consistency proof from the \
                last checkpoint this witness cosigned (kept in --state, mode 0600), then posts its \
                cosignature to POST /v1/log/cosignatures. A checkpoint that is not consistent (a fork) \
                is refused: the witness says so and exits 1.
                """
        )

        @Option(help: "The log's server URL.") var log: String
        @Option(help: "The log's verifier key, <name>+<key ID>+<base64 key>.") var key: String
        @Option(name: .customLong("witness-key"), help: "The witness's signer key file (from `vouch witness keygen`).") var witnessKey: String
        @Option(help: "Where the last cosigned checkpoint is kept (default: the witness key file's path + .state).") var state: String?
        @Option(help: "Seconds between polls.") var interval: Double = 1
        @Flag(help: "Witness the pending checkpoint, if any, and exit.") var once = false

        func validate() throws {
            guard interval >= 0.05, interval <= 86_400 else { throw ValidationError("--interval must be between 0.05 seconds and a day (86400)") }
        }

        func run() async throws {
            let verifier = try LogCommand.verifiers([key])[0]
            let keyText = String(decoding: try LogCommand.read(witnessKey, what: "witness key"), as: UTF8.self)
            let signer: CosignatureSigner
            do {
                signer = try CosignatureSigner(signerKey: keyText.trimmingCharacters(in: .whitespacesAndNewlines))
            } catch {
                throw ValidationError("\(witnessKey) is not a witness signer key: \(error.reason)")
            }
            let statePath = state ?? witnessKey + ".state"
            let client = VouchClient(transport: try CLIInput.transport(log))
            while true {
                do {
                    try await witnessOnce(client: client, verifier: verifier, signer: signer, statePath: statePath)
                } catch let fork as Fork {
                    CLIOutput.error("FORK \(fork.reason). Refusing to cosign.")
                    throw ExitCode(1)
                } catch let error as Unavailable {
                    // The log is down or answers oddly: say so, and try again at the next poll.
                    CLIOutput.error(error.reason)
                    if once { throw ExitCode(2) }
                } catch let error as VouchClientError where error.code == .unreachable {
                    // Unreachable: say so, and try again at the next poll.
                    CLIOutput.error("Error: \(error.reason)")
                    if once { throw ExitCode(2) }
                }
                if once { return }
                try await Task.sleep(for: .milliseconds(Int64(interval * 1000)))
            }
        }

        /// The log's checkpoints disagree with what this witness cosigned.
        struct Fork: Error {
            let reason: String
        }

        /// The log could not be read this time.
        struct Unavailable: Error {
            let reason: String
        }

        private func witnessOnce(client: VouchClient, verifier: NoteVerifier, signer: CosignatureSigner, statePath: String) async throws {
            let pending: String?
            do {
                pending = try await client.pendingCheckpoint()
            } catch let error as VouchClientError where error.code == .refused {
                throw Unavailable(reason: "GET /v1/log/pending answered HTTP \(error.status)")
            }
            guard let text = pending else {
                if once { print("no checkpoint awaits cosignatures") }
                return
            }
            let checkpoint: Checkpoint
            let note: SignedNote
            do {
                note = try SignedNote(parsing: text)
                checkpoint = try Checkpoint.verify(signedNote: text, verifiers: [verifier]).get()
            } catch {
                CLIOutput.error("REFUSED the pending checkpoint: it does not verify with the log's key (\(error))")
                return
            }
            var previous: State?
            if FileManager.default.fileExists(atPath: statePath) {
                do {
                    previous = try JSONDecoder().decode(State.self, from: Data(contentsOf: URL(fileURLWithPath: statePath)))
                } catch {
                    throw ValidationError("the witness state \(statePath) is unreadable; it must be restored, not discarded")
                }
            }
            if let previous {
                guard previous.origin == checkpoint.origin else {
                    throw ValidationError("the state \(statePath) is of log \(previous.origin), not \(checkpoint.origin)")
                }
                let root = try MerkleHash(base64Encoded: previous.root)
                if checkpoint.size < previous.size {
                    CLIOutput.error("REFUSED checkpoint \(checkpoint.size): this witness already cosigned size \(previous.size)")
                    return
                }
                if checkpoint.size == previous.size {
                    guard checkpoint.rootHash == root else {
                        throw Fork(reason: "checkpoint \(checkpoint.size) has root \(checkpoint.rootHash), but this witness cosigned root \(root) at that size")
                    }
                } else if previous.size > 0 {
                    let answer: ConsistencyProofAnswer
                    do {
                        answer = try await client.consistencyProof(from: previous.size, to: checkpoint.size)
                    } catch let error as VouchClientError where error.code != .unreachable {
                        throw Unavailable(reason: "the log did not give a consistency proof from \(previous.size) to \(checkpoint.size) (\(error.reason)); not cosigning")
                    }
                    let hashes = try answer.proof.map { try MerkleHash(base64Encoded: $0) }
                    let verdict: MerkleProofVerdict
                    do {
                        verdict = try ConsistencyProof(oldSize: previous.size, newSize: checkpoint.size, hashes: hashes)
                            .verify(oldRoot: root, newRoot: checkpoint.rootHash)
                    } catch {
                        verdict = .invalid(reason: error.reason)
                    }
                    if case .invalid(let reason) = verdict {
                        throw Fork(reason: "checkpoint \(checkpoint.size) (root \(checkpoint.rootHash)) is not consistent with checkpoint \(previous.size) (root \(root)) that this witness cosigned: \(reason)")
                    }
                }
            }
            // Remember before cosigning: the witness must never cosign two checkpoints that disagree.
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let newState = State(origin: checkpoint.origin, size: checkpoint.size, root: checkpoint.rootHash.base64EncodedString)
            try AtomicFile.write(try encoder.encode(newState), to: statePath, mode: 0o600, replacingExisting: true)
            let cosigned = try signer.cosign(note, time: UInt64(Date().timeIntervalSince1970))
            let published: Bool
            do {
                published = try await client.cosign(cosigned.serialized).published
            } catch let error as VouchClientError where error.code == .refused {
                CLIOutput.error("the log refused the cosignature of checkpoint \(checkpoint.size): \(error.reason)")
                return
            }
            print("cosigned \(checkpoint.origin) checkpoint \(checkpoint.size) root \(checkpoint.rootHash.base64EncodedString)\(published ? " (published)" : "")")
        }
    }

    struct Keygen: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keygen",
            abstract: "Make a witness key: writes the signer key (mode 0600) and prints the verifier key for the log's --witness."
        )

        @Option(help: "The witness's name, such as witness.example.org.") var name: String
        @Option(help: "Where to write the signer key; refuses to replace a file.") var out: String

        func run() throws {
            let signer: CosignatureSigner
            do {
                signer = try CosignatureSigner.generate(name: name)
            } catch {
                throw ValidationError("cannot make a witness key named \(name): \(error.reason)")
            }
            do {
                try AtomicFile.write(Data((signer.signerKey + "\n").utf8), to: out, mode: 0o600, replacingExisting: false)
            } catch {
                throw ValidationError("cannot write \(out): \(error)")
            }
            print(signer.verifier.verifierKey)
        }
    }
}
