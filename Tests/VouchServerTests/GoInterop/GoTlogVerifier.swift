import Foundation
import VouchKit
import VouchTesting

/// The Go reference implementation of signed notes and transparency-log proofs, as a program the
/// tests run: `tlogcheck` (beside this file) checks checkpoints with `golang.org/x/mod/sumdb/note`
/// and proofs and leaf hashes with `golang.org/x/mod/sumdb/tlog`.
///
/// ```swift
/// let go = try await GoTlogVerifier.shared()
/// let output = try await go.verify(.init(verifierKeys: [signer.verifierKey], checkpoint: note.serialized))
/// #expect(output.checkpoint?.ok == true)
/// ```
///
/// The program is built once per test process, offline, in GOPATH mode against Debian's
/// `golang-golang-x-mod-dev`, into a temporary directory that is removed when the process exits.
/// Gate a suite on ``isAvailable`` (or CI, which installs Go): on a machine without Go,
/// ``shared()`` throws ``Failure`` saying what to install.
struct GoTlogVerifier: Sendable {
    /// The built `tlogcheck` executable.
    let executable: URL

    /// Whether `go` and `golang.org/x/mod` are installed, so that the verifier can be built.
    static var isAvailable: Bool {
        (try? toolchain.get()) != nil
    }

    /// The verifier, built on the first call in this process; later calls wait for that build.
    ///
    /// - Throws: ``Failure`` when Go or `golang.org/x/mod` is missing, or the build fails.
    static func shared() async throws -> GoTlogVerifier {
        GoTlogVerifier(executable: try await build.value)
    }

    /// Runs `tlogcheck` on `input` and returns its verdicts, one per item, in input order.
    ///
    /// - Throws: ``Failure`` when the program does not exit with status 0 or prints something
    ///   other than its JSON verdicts.
    func verify(_ input: Input) async throws -> Output {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let result = try await Self.run(executable, [], input: try encoder.encode(input))
        guard result.status == 0 else {
            throw Failure("tlogcheck exited with status \(result.status): \(String(decoding: result.errors, as: UTF8.self))")
        }
        do {
            return try JSONDecoder().decode(Output.self, from: result.output)
        } catch {
            throw Failure("tlogcheck printed something other than its verdicts (\(error)): \(String(decoding: result.output, as: UTF8.self))")
        }
    }
}

// MARK: - Input and output

extension GoTlogVerifier {
    /// What `tlogcheck` reads: trusted note keys, a signed checkpoint, and proofs and leaves to check.
    ///
    /// Hashes and entries travel as base64 text, so a test can also send ones that are malformed.
    struct Input: Codable, Sendable {
        /// Verifier keys, `<name>+<hex key ID>+<base64 key>`, that the checkpoint's signatures are checked against.
        var verifierKeys: [String] = []

        /// A signed checkpoint note, checked with `note.Open` and parsed as a C2SP tlog-checkpoint.
        var checkpoint: String?

        /// Inclusion proofs, checked with `tlog.CheckRecord`.
        var inclusion: [Inclusion] = []

        /// Consistency proofs, checked with `tlog.CheckTree`.
        var consistency: [Consistency] = []

        /// Entries and the leaf hashes claimed for them, checked with `tlog.RecordHash`.
        var leaves: [Leaf] = []
    }

    /// An inclusion proof and what it claims: the leaf at `index` is in the tree of `size` with `root`.
    struct Inclusion: Codable, Sendable {
        var index: UInt64
        var size: UInt64
        var leafHash: String
        var proof: [String]
        var root: String
    }

    /// A consistency proof and what it claims: the tree of `oldSize` with `oldRoot` is a prefix
    /// of the tree of `newSize` with `newRoot`.
    struct Consistency: Codable, Sendable {
        var oldSize: UInt64
        var newSize: UInt64
        var oldRoot: String
        var newRoot: String
        var proof: [String]
    }

    /// A log entry, in base64, and the leaf hash claimed for it.
    struct Leaf: Codable, Sendable {
        var entry: String
        var leafHash: String
    }

    /// The verdicts `tlogcheck` prints, in the order of the input's items.
    struct Output: Codable, Sendable {
        /// The checkpoint's verdict; nil when the input had no checkpoint.
        var checkpoint: CheckpointVerdict?
        var inclusion: [Verdict]
        var consistency: [Verdict]
        var leaves: [Verdict]
    }

    /// Whether Go accepted an item, and if not, Go's reason.
    struct Verdict: Codable, Sendable, Hashable {
        var ok: Bool
        var error: String?
    }

    /// Whether Go accepted the signed checkpoint, and what it read from it when it did.
    struct CheckpointVerdict: Codable, Sendable, Hashable {
        var ok: Bool
        var error: String?
        var origin: String?
        var size: UInt64?
        /// The root hash in base64.
        var root: String?

        /// The root hash Go read, when it accepted the checkpoint.
        var rootHash: MerkleHash? {
            root.flatMap { try? MerkleHash(base64Encoded: $0) }
        }
    }
}

extension GoTlogVerifier.Inclusion {
    /// The claim that `proof` makes for a leaf hash and the root of its tree.
    init(_ proof: InclusionProof, leafHash: MerkleHash, root: MerkleHash) {
        self.init(
            index: proof.leafIndex, size: proof.treeSize, leafHash: leafHash.base64EncodedString,
            proof: proof.hashes.map(\.base64EncodedString), root: root.base64EncodedString
        )
    }
}

extension GoTlogVerifier.Consistency {
    /// The claim that `proof` makes for the roots of its two trees.
    init(_ proof: ConsistencyProof, oldRoot: MerkleHash, newRoot: MerkleHash) {
        self.init(
            oldSize: proof.oldSize, newSize: proof.newSize, oldRoot: oldRoot.base64EncodedString,
            newRoot: newRoot.base64EncodedString, proof: proof.hashes.map(\.base64EncodedString)
        )
    }
}

extension GoTlogVerifier.Leaf {
    /// The claim that `leafHash` is the leaf hash of `entry`.
    init(entry: some Collection<UInt8>, leafHash: MerkleHash) {
        self.init(entry: Data(entry).base64EncodedString(), leafHash: leafHash.base64EncodedString)
    }
}

// MARK: - Failure

extension GoTlogVerifier {
    /// Go is missing, `tlogcheck` did not build, or it did not answer as it should.
    struct Failure: Error, CustomStringConvertible {
        let description: String

        init(_ description: String) {
            self.description = description
        }
    }
}

// MARK: - Building

extension GoTlogVerifier {
    /// Where Go and the `golang.org/x/mod` source are.
    struct Toolchain: Sendable {
        /// The `go` command.
        let go: URL

        /// The GOPATH that holds `src/golang.org/x/mod`.
        let gopath: String
    }

    /// The GOPATH of Debian's `golang-*-dev` source packages.
    static let debianGOPATH = "/usr/share/gocode"

    /// `go` on the PATH or in a usual place, and Debian's `golang.org/x/mod`; or what to install.
    static let toolchain: Result<Toolchain, Failure> = {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let candidates = path + ["/usr/bin", "/usr/local/go/bin", "/usr/lib/go/bin"]
        guard let go = candidates.map({ $0 + "/go" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            return .failure(Failure("the go command is not installed (apt-get install golang)"))
        }
        let mod = debianGOPATH + "/src/golang.org/x/mod/sumdb"
        guard ["/note/note.go", "/tlog/tlog.go"].allSatisfy({ FileManager.default.fileExists(atPath: mod + $0) }) else {
            return .failure(Failure("golang.org/x/mod is not in \(debianGOPATH) (apt-get install golang-golang-x-mod-dev)"))
        }
        return .success(Toolchain(go: URL(fileURLWithPath: go), gopath: debianGOPATH))
    }()

    /// The directory of `tlogcheck`'s Go source, beside this file.
    static let sourceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("tlogcheck")

    /// This process's build directory, removed when the process exits.
    private static let buildDirectory = FileManager.default.temporaryDirectory
        .appendingPathComponent("vouch-tlogcheck-\(UUID().uuidString)", isDirectory: true)

    /// The one build of `tlogcheck` in this process; every caller of ``shared()`` awaits it.
    private static let build = Task<URL, any Error> { try await compile() }

    /// Builds `tlogcheck` with the system's Go, offline: GOPATH mode, no module proxy, no cgo, and
    /// a build cache of its own that is removed afterwards.
    private static func compile() async throws -> URL {
        let toolchain = try toolchain.get()
        let cache = buildDirectory.appendingPathComponent("gocache", isDirectory: true)
        let executable = buildDirectory.appendingPathComponent("tlogcheck")
        try FileManager.default.createDirectory(at: cache, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(at: GoTlogVerifier.buildDirectory) }
        defer { try? FileManager.default.removeItem(at: cache) }

        var environment = ProcessInfo.processInfo.environment
        environment.merge(
            [
                "GO111MODULE": "off", "GOPATH": toolchain.gopath, "GOCACHE": cache.path, "GOFLAGS": "",
                "GOENV": "off", "GOPROXY": "off", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0",
            ],
            uniquingKeysWith: { $1 }
        )
        // In GOPATH mode a package outside GOPATH builds by relative path only, so build ".".
        let result = try await run(
            toolchain.go, ["build", "-o", executable.path, "."], in: sourceDirectory, environment: environment, input: Data()
        )
        guard result.status == 0 else {
            let output = String(decoding: result.output + result.errors, as: UTF8.self)
            throw Failure("go build of \(sourceDirectory.path) failed with status \(result.status): \(output)")
        }
        return executable
    }
}

// MARK: - Running a program

extension GoTlogVerifier {
    /// Runs a program with `input` on a pipe to its standard input and returns its exit status,
    /// standard output and standard error, each read whole.
    ///
    /// The blocking reads and writes happen on threads of their own, so the few threads of the
    /// concurrency pool stay free for a server running in the same process. Cancelling the
    /// calling task terminates the program.
    static func run(
        _ executable: URL,
        _ arguments: [String],
        in directory: URL? = nil,
        environment: [String: String]? = nil,
        input: Data
    ) async throws -> (status: Int32, output: Data, errors: Data) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if let environment { process.environment = environment }
        let standardInput = Pipe()
        let standardOutput = Pipe()
        let standardError = Pipe()
        process.standardInput = standardInput
        process.standardOutput = standardOutput
        process.standardError = standardError
        try process.run()

        return try await withTaskCancellationHandler {
            async let output = onOwnThread { standardOutput.fileHandleForReading.readDataToEndOfFile() }
            async let errors = onOwnThread { standardError.fileHandleForReading.readDataToEndOfFile() }
            // tlogcheck reads all its input before it writes or exits, so this write cannot meet a
            // closed pipe unless the program dies, and cannot block on output nobody reads.
            try await onOwnThread {
                try standardInput.fileHandleForWriting.write(contentsOf: input)
                try standardInput.fileHandleForWriting.close()
            }
            let (outputData, errorData) = try await (output, errors)
            try await onOwnThread { process.waitUntilExit() }
            return (process.terminationStatus, outputData, errorData)
        } onCancel: {
            if process.isRunning { process.terminate() }
        }
    }

    /// Runs blocking work on a thread of its own and returns its result.
    private static func onOwnThread<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try work() }) }.start()
        }
    }
}
