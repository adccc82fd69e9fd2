import Foundation

/// The server's clock: the wall clock, or the one a test drives.
struct ServerClock: Sendable {
    private let read: @Sendable () -> Date

    init(_ read: @escaping @Sendable () -> Date = { Date() }) {
        self.read = read
    }

    var now: Date { read() }
    /// Now in whole Unix seconds, as the records keep time.
    var seconds: Int { Int(read().timeIntervalSince1970) }
}
