import Foundation
import VouchKit

/// Bitstring status lists: the encoded list, the local list file, and the list credential.
extension FuzzTargets {
    /// The GZIP bytes of an `encodedList` (multibase `u` and base64url are added here, so that the
    /// fuzzer works on the compressed stream). A list that decodes must encode back to the same bits.
    static func bitstringStatusList(_ data: Data) {
        guard let list = try? BitstringStatusList(encodedList: "u" + Base64URL.encode(Array(data))) else { return }
        for index in [0, 7, 94_567, list.size - 1, list.size] { _ = try? list.isSet(index) }
        // Re-encoding the largest lists takes long; the small ones show the same code.
        if list.size <= 1 << 20 {
            guard (try? BitstringStatusList(encodedList: list.encodedList)) == list else {
                fatalError("a status list of \(list.size) entries does not decode from its own encoding")
            }
        }
    }

    /// A status list file (`vouch status-list`), as `StatusListFile.load(from:)` decodes it.
    static func statusListFile(_ data: Data) {
        _ = try? JSONDecoder().decode(StatusListFile.self, from: data)
    }

    /// The payload of a `BitstringStatusListCredential`, signed by the fixture's device key (a
    /// trusted issuer here) and verified (media type, signature, validity, issuer, then the list
    /// read out of the subject).
    static func statusListCredential(_ data: Data) {
        let token = FuzzFixture.token(payload: data, type: "vc+jwt")
        _ = runBlocking {
            (try? await StatusListCredential.verify(token, trustedIssuers: [FuzzFixture.deviceDID.description], now: FuzzFixture.now))?.list.size
        }
    }
}
