import Foundation
import Testing
import VouchAPI
import VouchKit

/// The client's own parts: paths and queries as the server reads them, refusals as errors that carry
/// the server's problem, and a server that cannot be reached. (Every call against the real server is
/// in VouchServerTests, over Hummingbird's test client, and VouchCLITests, over URLSession.)
@Suite("VouchClient")
struct VouchClientTests {
    @Test func pathSegmentsAndQueriesArePercentEncoded() {
        #expect(VouchClient.segment("dev_01") == "dev_01")
        #expect(VouchClient.segment("a/b c?d") == "a%2Fb%20c%3Fd")
        #expect(VouchClient.query([]) == "")
        #expect(VouchClient.query([("state", nil), ("limit", "10")]) == "?limit=10")
        #expect(VouchClient.query([("after", "dev_1&x=2"), ("zone", "line 3")]) == "?after=dev_1%26x%3D2&zone=line%203")
    }

    @Test func aRefusalCarriesTheServersProblem() throws {
        let body = #"{"type":"about:blank","title":"Conflict","status":409,"detail":"device dev_1 is revoked","legalActions":"decommission"}"#
        let answer = VouchResponse(status: 409, headers: ["content-type": ProblemDetails.mediaType], body: Array(body.utf8))
        #expect(!answer.isSuccess)
        let error = VouchClientError.refused(answer)
        #expect(error.code == .refused)
        #expect(error.status == 409)
        #expect(error.problem?.legalActions == "decommission")
        #expect(error.reason == "device dev_1 is revoked (HTTP 409)")
        // A refusal without a problem body says what came instead.
        let bare = VouchClientError.refused(VouchResponse(status: 502, body: Array("bad gateway".utf8)))
        #expect(bare.problem == nil && bare.reason == "bad gateway (HTTP 502)")
    }

    @Test func anAnswerThatIsNotTheTypeAskedForIsAMalformedAnswer() {
        let answer = VouchResponse(status: 200, body: Array(#"{"nonce": 7}"#.utf8))
        #expect(throws: VouchClientError.self) { try answer.decode(NonceResponse.self) }
        do {
            _ = try answer.decode(NonceResponse.self)
        } catch let error as VouchClientError {
            #expect(error.code == .malformedAnswer && error.status == 200)
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test func aServerThatCannotBeReachedIsUnreachable() async throws {
        #expect(throws: VouchClientError.self) { try URLSessionTransport(server: "ftp://example.org") }
        // A loopback port nothing listens on: bound and closed again to find one.
        let port = try Self.closedPort()
        let client = VouchClient(transport: try URLSessionTransport(server: "http://127.0.0.1:\(port)/"))
        #expect(client.transport.server == "http://127.0.0.1:\(port)")
        do {
            _ = try await client.health()
            Issue.record("a closed port answered")
        } catch let error as VouchClientError {
            #expect(error.code == .unreachable && error.status == 0, "\(error)")
            #expect(error.reason.contains("cannot reach http://127.0.0.1:\(port)"), "\(error)")
        }
    }

    /// A loopback TCP port with no listener: the kernel picks a free one, which is closed again.
    static func closedPort() throws -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) } }
        try #require(bound == 0)
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) } }
        try #require(named == 0)
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
