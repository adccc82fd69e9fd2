import Foundation
import Testing

extension CLITests {
    @Suite("status-list")
    struct StatusLists {
        @Test func newSetCheckAndClearRoundTrip() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("status-list", "new", "--size", "131072", "--out", "s.json").expectExit(0)
                let file = try vouch.jsonObject("s.json")
                #expect(file["type"] as? String == "BitstringStatusList")
                #expect(file["statusPurpose"] as? String == "revocation")
                #expect(file["size"] as? Int == 131_072)
                #expect((file["encodedList"] as? String)?.hasPrefix("u") == true)

                for index in [0, 5, 131_071] {
                    try await vouch.expectEntry(index, of: "s.json", is: "0")
                }
                try await vouch.run("status-list", "set", "s.json", "0", "5", "131071").expectExit(0)
                for index in [0, 5, 131_071] {
                    try await vouch.expectEntry(index, of: "s.json", is: "1")
                }
                for index in [1, 4, 6, 131_070] {
                    try await vouch.expectEntry(index, of: "s.json", is: "0")
                }
                try await vouch.run("status-list", "set", "s.json", "5", "--clear").expectExit(0)
                try await vouch.expectEntry(5, of: "s.json", is: "0")
                try await vouch.expectEntry(0, of: "s.json", is: "1")
                try await vouch.expectEntry(131_071, of: "s.json", is: "1")

                // Setting a set entry and clearing a clear one change nothing.
                try await vouch.run("status-list", "set", "s.json", "0").expectExit(0)
                try await vouch.run("status-list", "set", "s.json", "5", "--clear").expectExit(0)
                try await vouch.expectEntry(0, of: "s.json", is: "1")
                try await vouch.expectEntry(5, of: "s.json", is: "0")
            }
        }

        @Test func defaultSizeIsTheMinimumAndPurposeCanBeSuspension() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("status-list", "new", "--out", "default.json").expectExit(0)
                #expect(try vouch.jsonObject("default.json")["size"] as? Int == 131_072)
                try await vouch.run("status-list", "new", "--size", "131080", "--purpose", "suspension", "--out", "s.json")
                    .expectExit(0)
                let file = try vouch.jsonObject("s.json")
                #expect(file["size"] as? Int == 131_080)
                #expect(file["statusPurpose"] as? String == "suspension")
                try await vouch.expectEntry(131_079, of: "s.json", is: "0")
            }
        }

        @Test func newRefusesToReplaceAFileWithoutForce() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("status-list", "new", "--out", "s.json").expectExit(0)
                try await vouch.run("status-list", "set", "s.json", "3").expectExit(0)
                let before = try vouch.data("s.json")
                try await vouch.run("status-list", "new", "--out", "s.json").expectUsageError(mentioning: "--force")
                #expect(try vouch.data("s.json") == before)
                try await vouch.run("status-list", "new", "--out", "s.json", "--force").expectExit(0)
                try await vouch.expectEntry(3, of: "s.json", is: "0")
            }
        }

        @Test func anIndexOutOfRangeIsAUsageErrorAndChangesNothing() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("status-list", "new", "--out", "s.json").expectExit(0)
                let before = try vouch.data("s.json")
                try await vouch.run("status-list", "check", "s.json", "131072").expectUsageError(mentioning: "131072")
                try await vouch.run("status-list", "set", "s.json", "131072").expectUsageError(mentioning: "131072")
                // Every index is checked before anything is written.
                try await vouch.run("status-list", "set", "s.json", "3", "131072").expectUsageError()
                try await vouch.run("status-list", "set", "s.json", "3", "x").expectUsageError()
                #expect(try vouch.data("s.json") == before)
                try await vouch.expectEntry(3, of: "s.json", is: "0")

                for index in ["-1", "x", "1.5", "99999999999999999999999"] {
                    try await vouch.run("status-list", "check", "s.json", index).expectUsageError()
                }
                try await vouch.run("status-list", "set", "s.json").expectUsageError()
                try await vouch.run("status-list", "check", "s.json").expectUsageError()
            }
        }

        @Test(arguments: ["8", "0", "-8", "131064", "131071", "131073", "200000000", "abc", ""])
        func aSizeThatIsTooSmallOrNotAWholeNumberOfBytesIsAUsageError(_ size: String) async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try await vouch.run("status-list", "new", "--size=\(size)", "--out", "s.json").expectUsageError()
                #expect(!vouch.exists("s.json"))
            }
        }

        @Test func aFileThatIsNotAStatusListIsAUsageError() async throws {
            try await VouchProcess.withScratchDirectory { vouch in
                try vouch.write("{}", to: "empty.json")
                try vouch.write("not json", to: "text.json")
                try vouch.write(#"{"type":"BitstringStatusList","statusPurpose":"revocation","size":131072,"encodedList":"not-base64!"}"#, to: "bad.json")
                for file in ["missing.json", "empty.json", "text.json", "bad.json"] {
                    try await vouch.run("status-list", "check", file, "0").expectUsageError()
                    try await vouch.run("status-list", "set", file, "0").expectUsageError()
                }
            }
        }
    }
}
