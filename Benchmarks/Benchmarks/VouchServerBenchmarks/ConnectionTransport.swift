import HTTPTypes
import HummingbirdTesting
import NIOCore
import VouchAPI

/// A `VouchTransport` over one HTTP/1.1 keep-alive connection (HummingbirdTesting's client).
struct ConnectionTransport: VouchTransport {
    let connection: TestClient
    let server: String

    init(connection: TestClient, port: Int) {
        self.connection = connection
        server = "http://127.0.0.1:\(port)"
    }

    /// Opens a connection once the server answers.
    static func connect(port: Int) async throws -> TestClient {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            let client = TestClient(host: "127.0.0.1", port: port)
            client.connect()
            if let response = try? await client.get("/healthz"), response.status == .ok { return client }
            try? await client.shutdown()
            try await Task.sleep(for: .milliseconds(50))
        }
        fatalError("the server did not answer on port \(port)")
    }

    func send(_ request: VouchRequest) async throws -> VouchResponse {
        var headers = HTTPFields()
        for (name, value) in request.headers {
            guard let field = HTTPField.Name(name) else { throw VouchClientError.unreachable("\(name) is not a header name") }
            headers.append(HTTPField(name: field, value: value))
        }
        guard let method = HTTPRequest.Method(request.method) else { throw VouchClientError.unreachable("\(request.method) is not a method") }
        let response = try await connection.execute(
            TestClient.Request(request.path, method: method, headers: headers, body: request.body.map { ByteBuffer(bytes: $0) }))
        var fields: [String: String] = [:]
        for field in response.headers { fields[field.name.canonicalName] = field.value }
        return VouchResponse(status: Int(response.status.code), headers: fields, body: response.body.map { Array($0.readableBytesView) } ?? [])
    }
}
