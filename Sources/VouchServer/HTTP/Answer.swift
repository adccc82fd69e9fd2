import Hummingbird

/// A JSON answer, written by the context's response encoder (`VouchResponseEncoder`), with its status.
struct Answer<Body: Encodable & Sendable>: ResponseGenerator, Sendable {
    var body: Body
    var status: HTTPResponse.Status = .ok

    init(_ body: Body, status: HTTPResponse.Status = .ok) {
        self.body = body
        self.status = status
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.status = status
        return response
    }
}
