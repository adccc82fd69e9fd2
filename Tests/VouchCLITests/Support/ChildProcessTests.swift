import Foundation
import Testing
import VouchTesting

@Suite("Test support: child processes")
struct ChildProcessTests {
    /// What Foundation's launcher could not survive: well over 1,350 descriptors open. The child
    /// gets its standard streams, directory and environment, and none of the others.
    @Test func aChildStartsWithOnlyItsStreamsWhileManyDescriptorsAreOpen() throws {
        let held = try (0..<1_500).map { _ in try FileHandle(forReadingFrom: URL(fileURLWithPath: "/dev/null")) }
        defer { for handle in held { try? handle.close() } }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let child = ChildProcess()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", #"pwd; echo "$GREETING"; ls /proc/self/fd | sort -n | tr '\n' ' '; echo; echo oops >&2; exit 3"#]
        child.environment = ["GREETING": "hello from the parent", "PATH": "/usr/bin:/bin"]
        child.currentDirectoryURL = directory
        let pipe = Pipe()
        child.standardOutput = pipe
        child.standardError = pipe
        try child.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        #expect(child.terminationStatus == 3)
        #expect(child.terminationReason == .exit)
        #expect(!child.isRunning)
        let lines = output.split(separator: "\n").map(String.init)
        #expect(lines.first.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path } == directory.resolvingSymlinksInPath().path, "\(output)")
        #expect(lines.dropFirst().first == "hello from the parent", "\(output)")
        // 0, 1, 2, and the descriptor `ls` opens to read the directory: nothing inherited.
        let descriptors = lines.dropFirst(2).first?.split(separator: " ").compactMap { Int($0) } ?? []
        #expect(descriptors.count <= 4 && Array(descriptors.prefix(3)) == [0, 1, 2], "\(output)")
        #expect(lines.last == "oops", "\(output)")
    }

    /// A child ended by a signal reports the signal; the termination handler runs once it has ended.
    @Test func aTerminatedChildReportsItsSignal() async throws {
        let child = ChildProcess()
        child.executableURL = URL(fileURLWithPath: "/bin/sleep")
        child.arguments = ["30"]
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            child.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try child.run()
            } catch {
                continuation.resume(throwing: error)
                return
            }
            #expect(child.isRunning)
            #expect(child.processIdentifier > 0)
            child.terminate()
        }
        #expect(status == SIGTERM)
        #expect(child.terminationReason == .uncaughtSignal)
    }

    /// `FileHandle.nullDevice` (which has no descriptor of its own) stands for /dev/null, as with
    /// Foundation's `Process`.
    @Test func theNullDeviceHandleIsDevNull() throws {
        let child = ChildProcess()
        child.executableURL = URL(fileURLWithPath: "/bin/sh")
        child.arguments = ["-c", "read line; echo ignored; echo ignored >&2; exit 0"]
        child.standardInput = FileHandle.nullDevice
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try child.run()
        child.waitUntilExit()
        #expect(child.terminationStatus == 0)
    }

    @Test func aMissingProgramIsAnError() {
        let child = ChildProcess()
        child.executableURL = URL(fileURLWithPath: "/nonexistent/program")
        #expect(throws: POSIXError.self) { try child.run() }
    }
}
