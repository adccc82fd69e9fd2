#if !FUZZING
import Foundation

/// The program built without `-DFUZZING`: replays inputs through a target, without libFuzzer or
/// sanitizers. This is how a crash that `scripts/fuzz.sh` saved is reproduced in a debugger, and
/// how the seed corpus is written.
///
/// ```
/// VouchFuzz TARGET PATH...        each file (each file in a folder) through TARGET
/// VouchFuzz --list                the targets' names
/// VouchFuzz --make-seeds FOLDER   the generated seeds into FOLDER/<target>/
/// ```
@main
struct CorpusReplayer {
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        switch arguments.first {
        case "--list":
            print(FuzzTargets.all.keys.sorted().joined(separator: "\n"))
        case "--make-seeds" where arguments.count == 2:
            do {
                let written = try await FuzzSeeds.write(to: URL(fileURLWithPath: arguments[1]))
                print("wrote \(written) seed files under \(arguments[1])")
            } catch {
                fail("could not write the seeds: \(error)")
            }
        case let name? where arguments.count >= 2:
            guard let target = FuzzTargets.all[name] else {
                fail("no target named \(name); VouchFuzz --list names them")
            }
            var count = 0
            for path in arguments.dropFirst() {
                for file in files(at: path) {
                    FileHandle.standardError.write(Data("\(name) \(file)\n".utf8))
                    guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
                    target(data)
                    count += 1
                }
            }
            print("\(name): \(count) inputs replayed")
        default:
            fail("usage: VouchFuzz TARGET PATH... | VouchFuzz --list | VouchFuzz --make-seeds FOLDER")
        }
    }

    /// `path` itself, or the files in the folder `path` in name order.
    private static func files(at path: String) -> [String] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else { return [path] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { path + "/" + $0 }
    }

    private static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(2)
    }
}
#endif
