import Foundation

/// A `python3` on PATH that can import `module` (CI installs the PyPI packages the tests use into
/// its virtual environment, which it puts first on PATH), or nil.
public func python(importing module: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let python = String(directory) + "/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else { continue }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", "import \(module)"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { continue }
        process.waitUntilExit()
        if process.terminationStatus == 0 { return python }
    }
    return nil
}
