import Foundation
import Hummingbird
import Logging
import Synchronization
import VouchStore

/// Turns every error into an RFC 9457 problem: API errors as they are, Hummingbird's own HTTP
/// errors with their status, and anything else as a 500 whose details stay in the log.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServiceError {
            return try Problem(error).response(from: request, context: context)
        } catch let error as Problem {
            return try error.response(from: request, context: context)
        } catch let error as HTTPError {
            let detail: String =
                switch error.status {
                case .notFound: "no such resource: \(request.method) \(request.uri.path) (see /openapi.yaml)"
                case .methodNotAllowed: "\(request.method) is not allowed on \(request.uri.path)"
                case .contentTooLarge: "the request body is too large"
                default: error.body ?? error.status.reasonPhrase
                }
            return try Problem(error.status, detail).response(from: request, context: context)
        } catch where StoreError.isUniqueViolation(error) {
            // Two requests raced for the same record (a key, a name) and the database kept one.
            context.logger.info("unique constraint refused a write", metadata: ["error": "\(String(reflecting: error))", "http.path": "\(request.uri.path)"])
            return try Problem(.conflict, "another request created the same record at the same moment; read the current state and retry")
                .response(from: request, context: context)
        } catch {
            context.logger.error("internal error", metadata: ["error": "\(String(reflecting: error))", "http.path": "\(request.uri.path)"])
            return try Problem(.internalServerError, "the server failed to handle this request; the log has the details")
                .response(from: request, context: context)
        }
    }
}

/// Per-source token buckets for enrollment and authentication: 429 with Retry-After when empty.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private let capacity: Double
    private let refillPerSecond: Double
    private let buckets = Mutex([String: Bucket]())

    /// The server's clock: buckets refill as it runs.
    private let clock: ServerClock

    init(perMinute: Int, clock: ServerClock = ServerClock()) {
        capacity = Double(max(1, perMinute))
        refillPerSecond = Double(max(1, perMinute)) / 60
        self.clock = clock
    }

    /// Takes a token for `source`, or throws 429.
    func take(_ source: String) throws {
        let now = clock.now.timeIntervalSince1970
        let wait: Double? = buckets.withLock { buckets in
            if buckets.count > 100_000 {
                buckets = buckets.filter { now - $0.value.updated < 60 }
            }
            var bucket = buckets[source] ?? Bucket(tokens: capacity, updated: now)
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * refillPerSecond)
            bucket.updated = now
            defer { buckets[source] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return (1 - bucket.tokens) / refillPerSecond
        }
        if let wait {
            throw ServiceError.rateLimited(retryAfter: max(1, Int(wait.rounded(.up))))
        }
    }
}

/// Takes a token from `limiter` for the request's source before the route runs (429 when empty),
/// except on the `exempt` paths.
struct RateLimitMiddleware: RouterMiddleware {
    let limiter: RateLimiter
    var exempt: Set<String> = []

    func handle(_ request: Request, context: VouchRequestContext, next: (Request, VouchRequestContext) async throws -> Response) async throws -> Response {
        if !exempt.contains(request.uri.path) { try limiter.take(context.sourceKey) }
        return try await next(request, context)
    }
}

/// Counts requests and their latency for `/metrics`, by method, route pattern (as the router matched
/// it, or `route` for a path answered past the router; `unmatched` for none: never a raw path) and
/// status.
struct MetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServerMetrics
    var route: String? = nil

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        metrics.request(
            method: request.method.rawValue, route: route ?? context.endpointPath ?? "unmatched", status: Int(response.status.code),
            duration: ContinuousClock.now - start)
        return response
    }
}
