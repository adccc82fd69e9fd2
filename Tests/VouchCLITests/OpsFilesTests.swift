import Foundation
import Testing

private let systemdAnalyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// The files an operator installs beside the binary.
@Suite("Ops files")
struct OpsFilesTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized

    /// The systemd unit passes `systemd-analyze verify` without a warning (an option systemd does
    /// not understand is only warned about, and then silently not applied: hardening that is not
    /// there), starting the binary this build made.
    @Test(.enabled(if: systemdAnalyze != nil || ProcessInfo.processInfo.environment["CI"] != nil, "needs systemd-analyze (CI installs systemd)"))
    func theSystemdUnitVerifiesWithoutAWarning() async throws {
        let tool = try #require(systemdAnalyze, "systemd-analyze is not installed (apt-get install systemd)")
        let unit = try String(contentsOf: Self.repository.appendingPathComponent("ops/vouch.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/vouch serve\n"))
        for hardening in ["NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=\n", "SystemCallFilter=@system-service", "UMask=0077"] {
            #expect(unit.contains(hardening), "the unit lost \(hardening)")
        }
        try await VouchProcess.withScratchDirectory { vouch in
            try vouch.write(unit.replacingOccurrences(of: "/usr/local/bin/vouch", with: vouch.executable.path), to: "vouch.service")
            let verified = try vouch.program(tool, ["verify", vouch.url("vouch.service").path])
            #expect(verified.status == 0 && verified.output.isEmpty, "systemd-analyze verify: \(verified.output)")
            // The same check fails for a unit systemd would not run as written.
            try vouch.write(unit.replacingOccurrences(of: "/usr/local/bin/vouch", with: "/nonexistent/vouch"), to: "broken.service")
            let broken = try vouch.program(tool, ["verify", vouch.url("broken.service").path])
            #expect(broken.status != 0, "\(broken.output)")
        }
    }

    @Test func theProjectHasALicense() throws {
        let license = try String(contentsOf: Self.repository.appendingPathComponent("LICENSE"), encoding: .utf8)
        #expect(license.contains("Apache License") && license.contains("Version 2.0, January 2004"))
    }
}
