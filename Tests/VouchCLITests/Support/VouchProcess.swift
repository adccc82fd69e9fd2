import Foundation
import Testing

/// Runs the real `vouch` executable as a subprocess, in a scratch directory that belongs to one test.
///
/// Make one with ``withScratchDirectory(_:)``: file names given to ``run(_:standardInput:)`` and to the
/// file helpers are relative to the scratch directory, which is removed when the body returns. Tests
/// run in parallel, so nothing here is shared between them.
///
/// The executable is `$VOUCH_BINARY` when that is set; otherwise the `vouch` found next to the test
/// executable (`.build/debug/` or `.build/<triple>/debug/`) or in one of its parent directories.
struct VouchProcess: Sendable {
    /// The `vouch` executable.
    let executable: URL

    /// The working directory of every run: a fresh, empty directory for this test.
    let directory: URL

    /// Runs `body` with a runner whose scratch directory is new and empty, then removes the directory.
    static func withScratchDirectory<Value>(
        _ body: (VouchProcess) async throws -> Value
    ) async throws -> Value {
        let executable = try locateExecutable()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("VouchCLITests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        return try await body(VouchProcess(executable: executable, directory: directory))
    }

    /// Runs `vouch` with `arguments` in the scratch directory and waits for it to end.
    ///
    /// Standard output and standard error are captured in files, so a command that writes a lot
    /// cannot block on a full pipe. Standard input is `standardInput`, or empty. Cancelling the
    /// calling task (for instance when a test's time limit runs out) terminates the process.
    /// `environment` is added to this process's own environment.
    func run(_ arguments: [String], standardInput: Data? = nil, environment: [String: String] = [:]) async throws -> Outcome {
        let capture = FileManager.default.temporaryDirectory
            .appendingPathComponent("VouchCLITests-io-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: capture, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: capture) }
        let outputURL = capture.appendingPathComponent("stdout")
        let errorURL = capture.appendingPathComponent("stderr")
        let inputURL = capture.appendingPathComponent("stdin")
        try Data().write(to: outputURL)
        try Data().write(to: errorURL)
        try (standardInput ?? Data()).write(to: inputURL)

        let output = try FileHandle(forWritingTo: outputURL)
        let error = try FileHandle(forWritingTo: errorURL)
        let input = try FileHandle(forReadingFrom: inputURL)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.currentDirectoryURL = directory
        process.standardOutput = output
        process.standardError = error
        process.standardInput = input

        try await withTaskCancellationHandler {
            try Task.checkCancellation()
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                process.terminationHandler = { _ in continuation.resume() }
                do {
                    try process.run()
                } catch {
                    process.terminationHandler = nil
                    continuation.resume(throwing: error)
                }
            }
        } onCancel: {
            if process.isRunning { process.terminate() }
        }
        try? output.close()
        try? error.close()
        try? input.close()

        return Outcome(
            arguments: arguments,
            status: process.terminationStatus,
            killedBySignal: process.terminationReason == .uncaughtSignal,
            standardOutput: String(decoding: try Data(contentsOf: outputURL), as: UTF8.self),
            standardError: String(decoding: try Data(contentsOf: errorURL), as: UTF8.self)
        )
    }

    /// Runs `vouch` with `arguments` in the scratch directory.
    func run(_ arguments: String...) async throws -> Outcome {
        try await run(arguments)
    }

    /// Runs another program (`tool`, an absolute path) in the scratch directory to its end, with
    /// `input` as standard input; its status and everything it wrote to standard output and error.
    func program(_ tool: String, _ arguments: [String], input: URL? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if let input { process.standardInput = try FileHandle(forReadingFrom: input) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}

// MARK: - Files in the scratch directory

extension VouchProcess {
    /// The URL of `name` in the scratch directory.
    func url(_ name: String) -> URL {
        directory.appendingPathComponent(name)
    }

    /// Writes `text` as UTF-8 to `name` in the scratch directory.
    func write(_ text: String, to name: String) throws {
        try Data(text.utf8).write(to: url(name))
    }

    /// Writes `data` to `name` in the scratch directory.
    func write(_ data: Data, to name: String) throws {
        try data.write(to: url(name))
    }

    /// The bytes of `name` in the scratch directory.
    func data(_ name: String) throws -> Data {
        try Data(contentsOf: url(name))
    }

    /// The UTF-8 text of `name` in the scratch directory.
    func text(_ name: String) throws -> String {
        String(decoding: try data(name), as: UTF8.self)
    }

    /// The top-level JSON object in `name` in the scratch directory.
    func jsonObject(_ name: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data(name)) as? [String: Any])
    }

    /// Whether `name` exists in the scratch directory.
    func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: url(name).path)
    }

    /// The POSIX permission bits of `name` in the scratch directory.
    func permissions(_ name: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: url(name).path)
        return try #require((attributes[.posixPermissions] as? NSNumber)?.intValue)
    }
}

// MARK: - Finding the executable

extension VouchProcess {
    /// No `vouch` executable was found; says where the search looked.
    struct ExecutableNotFound: Error, CustomStringConvertible {
        let searched: [String]

        var description: String {
            "no vouch executable found (searched \(searched.joined(separator: ", "))); "
                + "build it with `swift build --product vouch` or set VOUCH_BINARY"
        }
    }

    /// How many parent directories of the test executable to search.
    private static let searchDepth = 5

    /// `$VOUCH_BINARY`, or the `vouch` beside the test executable or in one of its parent directories.
    static func locateExecutable() throws -> URL {
        if let override = ProcessInfo.processInfo.environment["VOUCH_BINARY"], !override.isEmpty {
            let url = URL(fileURLWithPath: override)
            guard isExecutable(url) else { throw ExecutableNotFound(searched: ["VOUCH_BINARY=\(override)"]) }
            return url
        }
        // On Linux the test runner is the test executable itself; on macOS it is `xctest` loading
        // the `.xctest` bundle, so the bundle is searched too.
        var starts = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        starts += Bundle.allBundles.map(\.bundleURL).filter { $0.pathExtension == "xctest" }
        var searched: [String] = []
        for start in starts {
            var directory = start.standardizedFileURL
            for _ in 0...searchDepth {
                let candidate = directory.appendingPathComponent("vouch")
                searched.append(candidate.path)
                if isExecutable(candidate) { return candidate }
                let parent = directory.deletingLastPathComponent()
                if parent.path == directory.path { break }
                directory = parent
            }
        }
        throw ExecutableNotFound(searched: searched)
    }

    /// Whether `url` is an executable regular file (not, say, a `vouch` directory).
    private static func isExecutable(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && !isDirectory.boolValue
            && FileManager.default.isExecutableFile(atPath: url.path)
    }
}

// MARK: - Outcome

extension VouchProcess {
    /// What one run of `vouch` did: its exit status and everything it wrote.
    struct Outcome: Sendable, CustomStringConvertible {
        /// The arguments it ran with, for messages.
        let arguments: [String]

        /// The exit status, or the signal number when ``killedBySignal``.
        let status: Int32

        /// Whether the process ended by an uncaught signal (a crash) rather than by exiting.
        let killedBySignal: Bool

        /// Everything written to standard output.
        let standardOutput: String

        /// Everything written to standard error.
        let standardError: String

        /// The non-empty lines of standard output.
        var outputLines: [String] {
            standardOutput.split(separator: "\n").map(String.init)
        }

        /// The last non-empty line of standard output.
        var lastOutputLine: String? {
            outputLines.last
        }

        /// Standard output parsed as a JSON object.
        func jsonObject() throws -> [String: Any] {
            try #require(
                try JSONSerialization.jsonObject(with: Data(standardOutput.utf8)) as? [String: Any],
                "stdout of \(self) is not a JSON object"
            )
        }

        /// The run, its status and its output, for failure messages.
        var description: String {
            let ending = killedBySignal ? "killed by signal \(status)" : "exit \(status)"
            return "`vouch \(arguments.joined(separator: " "))` (\(ending))\n"
                + "stdout: \(standardOutput)\nstderr: \(standardError)"
        }

        /// Expects the process to have exited (not crashed) with `expected`.
        func expectExit(_ expected: Int32, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(!killedBySignal, "crashed: \(self)", sourceLocation: sourceLocation)
            #expect(status == expected, "expected exit \(expected): \(self)", sourceLocation: sourceLocation)
        }

        /// Expects a usage or input error: exit 2, nothing on standard output, a reason on standard error.
        func expectUsageError(mentioning fragment: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) {
            expectExit(2, sourceLocation: sourceLocation)
            #expect(standardOutput.isEmpty, "usage error printed to stdout: \(self)", sourceLocation: sourceLocation)
            #expect(!standardError.isEmpty, "usage error without a reason: \(self)", sourceLocation: sourceLocation)
            if let fragment {
                #expect(standardError.contains(fragment), "stderr should mention \"\(fragment)\": \(self)", sourceLocation: sourceLocation)
            }
        }

        /// Expects the server to have refused the request: exit 3 and its reason, containing
        /// `fragment`, on standard error.
        func expectRefusedByServer(mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            expectExit(3, sourceLocation: sourceLocation)
            #expect(standardError.contains(fragment), "stderr should mention \"\(fragment)\": \(self)", sourceLocation: sourceLocation)
        }

        /// Expects a verification failure: exit 1 and the reason, containing `fragment`, on standard error.
        func expectVerificationFailure(mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            expectExit(1, sourceLocation: sourceLocation)
            #expect(standardError.contains(fragment), "stderr should mention \"\(fragment)\": \(self)", sourceLocation: sourceLocation)
        }
    }
}

// MARK: - A running server

#if canImport(FoundationNetworking)
import FoundationNetworking
import VouchTesting
#endif

extension VouchProcess {
    /// Starts `vouch serve --port 0` with its data in `data/`, runs `body` with the server's URL
    /// and the admin API key, then stops the server with SIGTERM and waits for it to exit.
    func withServer<Value>(extraArguments: [String] = [], _ body: (_ url: String, _ adminKey: String) async throws -> Value) async throws -> Value {
        let logURL = url("serve.log")
        try Data().write(to: logURL)
        let log = try FileHandle(forWritingTo: logURL)
        let process = Process()
        process.executableURL = executable
        process.arguments = ["serve", "--port", "0", "--data-dir", "data"] + extraArguments
        process.currentDirectoryURL = directory
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            try? log.close()
        }
        let server = try await Self.servingURL(of: process, log: logURL)
        let adminKey = try text("data/admin-api-key").trimmingCharacters(in: .whitespacesAndNewlines)
        return try await body(server, adminKey)
    }

    /// Waits (30 s at most) for a starting `vouch serve` to print the port it listens on and to
    /// answer `/readyz`; returns `http://127.0.0.1:PORT`.
    static func servingURL(of process: Process, log: URL) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, process.isRunning {
            let printed = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let line = printed.split(separator: "\n").first(where: { $0.hasPrefix("vouch serving ") }),
                let range = line.range(of: "(listening on "), let colon = line[range.upperBound...].lastIndex(of: ":"),
                let port = Int(line[line.index(after: colon)...].dropLast())
            {
                let server = "http://127.0.0.1:\(port)"
                if let (_, response) = try? await URLSession.shared.data(from: URL(string: server + "/readyz")!),
                    (response as? HTTPURLResponse)?.statusCode == 200
                {
                    return server
                }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ServerDidNotStart(log: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    struct ServerDidNotStart: Error, CustomStringConvertible {
        var log: String
        var description: String { "vouch serve did not become ready within 30 s; it printed:\n\(log)" }
    }
}
