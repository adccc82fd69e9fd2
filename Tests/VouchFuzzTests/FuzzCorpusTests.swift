import Foundation
import Testing

@testable import VouchFuzz

/// The fuzzing corpus replays cleanly: every seed in `Fuzz/corpus/<target>/`, and every input a
/// fuzzer once crashed a target with (`Fuzz/regressions/<target>/`, added with its fix), goes
/// through its target without trapping. A test that traps here names the target; reproduce it
/// with `swift run VouchFuzz TARGET FILE`.
@Suite struct FuzzCorpusTests {
    /// `Fuzz/` at the package root.
    static let fuzz = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz")

    @Test func everyTargetHasSeeds() {
        for target in FuzzTargets.all.keys.sorted() {
            #expect(!Self.inputs(in: "corpus", target).isEmpty, "Fuzz/corpus/\(target)/ holds no seed")
        }
    }

    @Test func everyFolderNamesATarget() throws {
        for kind in ["corpus", "regressions"] {
            let folder = Self.fuzz.appendingPathComponent(kind)
            guard FileManager.default.fileExists(atPath: folder.path) else { continue }
            for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where !name.hasPrefix(".") {
                #expect(FuzzTargets.all[name] != nil, "Fuzz/\(kind)/\(name)/ names no target")
            }
        }
    }

    @Test(arguments: FuzzTargets.all.keys.sorted())
    func corpusAndRegressionsReplay(target: String) async throws {
        let run = try #require(FuzzTargets.all[target])
        let inputs = Self.inputs(in: "corpus", target) + Self.inputs(in: "regressions", target)
        // On a thread of its own: targets that reach an async verifier block their thread until it
        // answers, which a thread of the tasks' shared pool must not do.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                for input in inputs { run(input) }
                done.resume()
            }.start()
        }
    }

    /// The contents of the files in `Fuzz/<kind>/<target>/`, in name order.
    static func inputs(in kind: String, _ target: String) -> [Data] {
        let folder = fuzz.appendingPathComponent(kind).appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().compactMap { FileManager.default.contents(atPath: folder.appendingPathComponent($0).path) }
    }
}
