import Foundation
import Testing
import VouchTesting

/// A `python3` on PATH with Selenium and axe-selenium-python (CI installs them), or nil.
let pythonForBrowser = python(importing: "axe_selenium_python")
/// Debian's chromium and chromium-driver.
let chromiumInstalled = FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
    && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")

/// The console as an operator uses it, in a real browser (headless Chromium driven by Selenium)
/// against a real `vouch serve`: sign in, the overview's counts against the API, a device enrolled
/// with the CLI appearing without a reload, a quarantine from the device's page that the API then
/// shows, a release made through the API changing the page live, a group and an API key made and
/// their secrets shown once, forged forms refused, sign-out, and a read-only key offered no action
/// and refused one. axe-core audits every page (`console_browser.py` holds the steps).
///
/// With `VOUCH_CONSOLE_SCREENSHOTS=DIR` the run keeps a 1280×800 screenshot of each page in DIR
/// (how `docs/console/` was made).
@Suite("The console in a real browser", .enabled(if: (pythonForBrowser != nil && chromiumInstalled) || ProcessInfo.processInfo.environment["CI"] != nil, "needs chromium, chromium-driver, selenium and axe-selenium-python (CI installs them)"))
struct ConsoleBrowserTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("console_browser.py").path

    @Test(.timeLimit(.minutes(5))) func anOperatorWorksTheFleetFromTheConsole() async throws {
        let python = try #require(pythonForBrowser, "python3 with selenium and axe-selenium-python is not on PATH")
        try await VouchProcess.withScratchDirectory { vouch in
            try await vouch.withServer { server, admin in
                let connection = ["--server", server, "--api-key", admin]
                let group = try await vouch.run(["admin", "group", "create", "--name", "console-line"] + connection)
                group.expectExit(0)
                let token = try #require(group.lastOutputLine)
                // A small fleet for the pages to show: two zones, a few models.
                let plant = try await vouch.run(["admin", "group", "create", "--name", "plant-sensors", "--zone", "plant", "--token-uses", "10"] + connection)
                plant.expectExit(0)
                let plantToken = try #require(plant.lastOutputLine)
                for (index, model) in ["th-100", "th-100", "th-200", "cam-1"].enumerated() {
                    try await vouch.run([
                        "device", "enroll", "--server", server, "--group", "plant-sensors", "--token", plantToken, "--attribute", "model=\(model)",
                        "--dir", "fleet\(index)",
                    ]).expectExit(0)
                }
                let reader = try await vouch.run(["admin", "api-key", "create", "--name", "auditor", "--scope", "read-only"] + connection)
                reader.expectExit(0)
                let readOnly = try #require(reader.lastOutputLine)
                let shots = ProcessInfo.processInfo.environment["VOUCH_CONSOLE_SCREENSHOTS"] ?? "-"
                let (status, output) = try await TestProgram.run(python, [
                    Self.script, server, admin, readOnly, token, vouch.executable.path, vouch.directory.path, shots,
                ])
                #expect(status == 0 && output.contains("console browser checks passed"), "the browser run failed:\n\(output.suffix(8_000))")
                // Every page was audited.
                let audited = output.split(separator: "\n").first { $0.hasPrefix("axe: ") }
                for page in ["sign-in", "overview", "devices", "device", "confirm", "groups", "api-keys", "policy-problems", "policy", "log", "events"] {
                    #expect(audited?.contains("\"\(page)\"") == true, "axe did not audit \(page): \(audited ?? "no axe line")")
                }
            }
        }
    }
}
