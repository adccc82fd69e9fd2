import Foundation
import Testing

/// End-to-end tests of the `vouch` executable: each test runs the real binary as a subprocess in a
/// scratch directory of its own and checks what it prints and its exit status (0 success,
/// 1 verification failure, 2 usage or input error).
@Suite("vouch CLI", .timeLimit(.minutes(2)))
struct CLITests {}
