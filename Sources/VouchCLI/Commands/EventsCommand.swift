import ArgumentParser
import Foundation
import VouchAPI
import VouchCore
import VouchKit

/// `vouch events …`: the authority's events as they happen.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Follow the authority's events as they are committed (GET /v1/events/stream).",
        subcommands: [Tail.self])

    struct Tail: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print events as they are committed, until interrupted.",
            discussion: """
                Reads the server's event stream (Server-Sent Events) and prints one line per event: sequence number, time, \
                kind, subject, actor and data, as vouch admin events does. A dropped connection is opened again from the last \
                event printed, so none is missed or printed twice. Needs a key that reads (read-only or more).
                """)
        @OptionGroup var connection: AdminConnection
        @Option(help: "Only events of this kind, or of kinds under a prefix written device.*; repeat for several.") var kind: [String] = []
        @Option(help: "Only events about this subject (a device id, group id…).") var subject: String?
        @Option(help: "Start after this sequence number (0: from the first event); default: from now.") var from: Int?
        @Flag(help: "Print each event as a JSON line.") var json = false

        func validate() throws {
            if let from, from < 0 { throw ValidationError("--from must be 0 or more") }
            _ = try CLIInput.eventKinds(kind)
        }

        func run() async throws {
            let environment = ProcessInfo.processInfo.environment
            guard let server = connection.server ?? environment["VOUCH_SERVER"] else { throw ValidationError("give --server or set VOUCH_SERVER") }
            guard let key = connection.apiKey ?? environment["VOUCH_API_KEY"], !key.isEmpty else {
                throw ValidationError("give --api-key or set VOUCH_API_KEY")
            }
            var query: [String] = []
            if !kind.isEmpty { query.append("kind=" + kind.joined(separator: ",")) }
            if let subject {
                query.append("subject=" + (subject.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? subject))
            }
            if let from { query.append("after=\(from)") }
            let client = try EventStreamClient(server: server, apiKey: key.trimmingCharacters(in: .whitespacesAndNewlines))
            for try await frame in client.frames(path: "/v1/events/stream" + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))) {
                guard let event = try? JSONDecoder().decode(EventView.self, from: Data(frame.data.utf8)) else { continue }
                let line: String
                if json {
                    line = frame.data
                } else {
                    let at = RFC3339.format(Date(timeIntervalSince1970: TimeInterval(event.at)))
                    line = "\(event.seq)\t\(at)\t\(event.kind)\t\(event.subject)\tby \(event.actor)\t\(String(decoding: event.data.canonicalJSON, as: UTF8.self))"
                }
                // Unbuffered: whoever reads the output sees each event as it comes.
                FileHandle.standardOutput.write(Data((line + "\n").utf8))
            }
        }
    }
}
