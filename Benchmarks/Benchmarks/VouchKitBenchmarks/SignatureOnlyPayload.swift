import JWTKit

/// A jwt-kit payload that reads nothing, as VouchKit's `JWS.verify` uses: jwt-kit checks the
/// signature and VouchKit's policies read the claims.
struct SignatureOnlyPayload: JWTPayload {
    init() {}
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
