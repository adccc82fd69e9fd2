import Foundation
import Testing
import VouchKit

@Suite("Status list file")
struct StatusListFileTests {
    /// A fresh, empty folder for one test; `body` gets its path and the folder is removed afterwards.
    private static func withTemporaryFolder(_ body: (String) throws -> Void) throws {
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("StatusListFileTests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try body(folder.path)
    }

    private static func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    private static func expectMalformed(_ path: String, mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: VouchKitError.self, sourceLocation: sourceLocation) {
            _ = try StatusListFile.load(from: path)
        }
        if let error {
            #expect(error.reason.contains(path), sourceLocation: sourceLocation)
            #expect(error.reason.contains(fragment), "\"\(error.reason)\" should mention \"\(fragment)\"", sourceLocation: sourceLocation)
        }
    }

    @Test func saveThenLoadGivesTheSameFile() throws {
        try Self.withTemporaryFolder { folder in
            var list = try BitstringStatusList(size: 131_080)
            try list.set(0)
            try list.set(131_079)
            let file = StatusListFile(statusPurpose: .suspension, list: list)
            let path = folder + "/list.json"
            try file.save(to: path, replacingExisting: false)
            let loaded = try StatusListFile.load(from: path)
            #expect(loaded == file)
            #expect(try loaded.list.isSet(131_079))
        }
    }

    @Test func fileIsTheDocumentedJSONObject() throws {
        try Self.withTemporaryFolder { folder in
            let path = folder + "/list.json"
            let list = try BitstringStatusList()
            try StatusListFile(statusPurpose: .revocation, list: list).save(to: path, replacingExisting: false)
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            let members = try #require(object as? [String: Any])
            #expect(Set(members.keys) == ["type", "statusPurpose", "size", "encodedList"])
            #expect(members["type"] as? String == "BitstringStatusList")
            #expect(members["statusPurpose"] as? String == "revocation")
            #expect(members["size"] as? Int == 131_072)
            #expect(members["encodedList"] as? String == list.encodedList)
        }
    }

    @Test func loadsTheSpecExampleListWrittenByHand() throws {
        try Self.withTemporaryFolder { folder in
            let path = folder + "/list.json"
            try Self.write(
                #"{"type":"BitstringStatusList","statusPurpose":"revocation","size":131072,"encodedList":"uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"}"#,
                to: path
            )
            let file = try StatusListFile.load(from: path)
            #expect(file.statusPurpose == .revocation)
            #expect(file.list == (try BitstringStatusList()))
        }
    }

    @Test func saveWithoutReplacingLeavesAnExistingFileUnchanged() throws {
        try Self.withTemporaryFolder { folder in
            let path = folder + "/list.json"
            try Self.write("precious", to: path)
            let file = StatusListFile(statusPurpose: .revocation, list: try BitstringStatusList())
            let error = #expect(throws: VouchKitError.self) { try file.save(to: path, replacingExisting: false) }
            #expect(error?.reason.contains("already exists") == true)
            #expect(try String(contentsOfFile: path, encoding: .utf8) == "precious")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["list.json"])
        }
    }

    @Test func saveReplacingRewritesTheFileAndLeavesNoTemporaryFile() throws {
        try Self.withTemporaryFolder { folder in
            let path = folder + "/list.json"
            var file = StatusListFile(statusPurpose: .revocation, list: try BitstringStatusList())
            try file.save(to: path, replacingExisting: false)
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            try file.list.set(7)
            try file.save(to: path, replacingExisting: true)
            #expect(try StatusListFile.load(from: path) == file)
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["list.json"])
            let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
            #expect(permissions == 0o600)
        }
    }

    @Test func saveIntoAMissingFolderSaysSo() throws {
        try Self.withTemporaryFolder { folder in
            let file = StatusListFile(statusPurpose: .revocation, list: try BitstringStatusList())
            let error = #expect(throws: VouchKitError.self) {
                try file.save(to: folder + "/missing/list.json", replacingExisting: false)
            }
            #expect(error?.reason.contains("does not exist") == true)
        }
    }

    @Test func loadExplainsAMissingFile() throws {
        try Self.withTemporaryFolder { folder in
            let path = folder + "/absent.json"
            let error = #expect(throws: VouchKitError.self) { _ = try StatusListFile.load(from: path) }
            #expect(error == VouchKitError.io("Cannot read the status list file \(path): no such file or directory."))
        }
    }

    @Test(arguments: [
        ("not json", "not valid JSON"),
        (#"{"statusPurpose":"revocation","size":131072,"encodedList":"u"}"#, "\"type\" is missing"),
        (#"{"type":"BitstringStatusListCredential","statusPurpose":"revocation","size":131072,"encodedList":"u"}"#, "type must be"),
        (#"{"type":"BitstringStatusList","statusPurpose":"expired","size":131072,"encodedList":"u"}"#, "\"revocation\" or \"suspension\""),
        (#"{"type":"BitstringStatusList","statusPurpose":"revocation","size":"big","encodedList":"u"}"#, "\"size\" has the wrong type"),
        (#"{"type":"BitstringStatusList","statusPurpose":"revocation","size":131072,"encodedList":"H4sI"}"#, "prefix 'u'"),
        (#"{"type":"BitstringStatusList","statusPurpose":"revocation","size":131080,"encodedList":"uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"}"#, "says 131080 entries"),
    ])
    func loadRejectsFilesThatAreNotStatusLists(contents: String, fragment: String) throws {
        try Self.withTemporaryFolder { folder in
            let path = folder + "/list.json"
            try Self.write(contents, to: path)
            Self.expectMalformed(path, mentioning: fragment)
        }
    }
}
