import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing
import VouchAPI
import VouchKit
@testable import VouchServer

@Suite("Nonces")
struct NonceTests {
    let minter = NonceMinter(key: SymmetricKey(size: .bits256))
    let now = 1_800_000_000

    @Test("a nonce checks for its purpose until it expires, and for nothing else")
    func purposeAndExpiry() {
        let nonce = minter.mint(purpose: "enrollment", expiresAt: now + 300)
        #expect(nonce.count == 76)
        #expect(minter.expiry(of: nonce, purpose: "enrollment", now: now) == now + 300)
        #expect(minter.expiry(of: nonce, purpose: "enrollment", now: now + 299) == now + 300)
        #expect(minter.expiry(of: nonce, purpose: "enrollment", now: now + 300) == nil)
        #expect(minter.expiry(of: nonce, purpose: "device", now: now) == nil)
        #expect(minter.expiry(of: nonce, purpose: "enrollment\u{0}", now: now) == nil)
        #expect(NonceMinter(key: SymmetricKey(size: .bits256)).expiry(of: nonce, purpose: "enrollment", now: now) == nil)
        #expect(minter.mint(purpose: "enrollment", expiresAt: now + 300) != nonce)
    }

    @Test("changing any byte, or anything that is not a nonce, is refused")
    func alterations() throws {
        let bytes = try #require(Base64URL.decode(minter.mint(purpose: "enrollment", expiresAt: now + 300)))
        for index in bytes.indices {
            var altered = bytes
            altered[index] ^= 0x01
            #expect(minter.expiry(of: Base64URL.encode(altered), purpose: "enrollment", now: now) == nil, "byte \(index)")
        }
        for garbage in ["", "never-issued", String(repeating: "A", count: 76), String(repeating: "A", count: 4096), "!!!"] {
            #expect(minter.expiry(of: garbage, purpose: "enrollment", now: now) == nil)
        }
        #expect(minter.expiry(of: Base64URL.encode(bytes.dropLast()), purpose: "enrollment", now: now) == nil)
        #expect(minter.expiry(of: Base64URL.encode(bytes + [0]), purpose: "enrollment", now: now) == nil)
    }

    @Test("a nonce serves only the kind of request it was issued for, on the server that issued it")
    func nonceKindsAndServers() async throws {
        try await withDataDirectory { other in
            let foreign = try await withServer(dataDirectory: other) { client, _ in try await client.nonce() }
            try await withDataDirectory { dir in
                try await withServer(dataDirectory: dir) { client, admin in
                    let token = try #require(try await client.createGroup("g", apiKey: admin, extra: ["unlimitedTokenUses": true]))
                    let device = DeviceAgent()
                    let challenge = try #require(try await client.call(.post, "/v1/auth/challenge").json["nonce"]?.stringValue)
                    for nonce in [challenge, foreign] {
                        let refused = try await client.call(.post, "/v1/enrollments", json: try await device.enrollmentBody(nonce: nonce, group: "g", token: token))
                        expectProblem(refused, 401, "nonce is unknown")
                    }
                    let (id, _) = try await RevocationTests.enroll(client, admin: admin, device: device)
                    let enrollmentNonce = try await client.nonce()
                    let proof = try await DeviceProof(nonce: enrollmentNonce, deviceId: id, purpose: .authenticate).sign(with: device.key)
                    expectProblem(
                        try await client.call(
                            .post, "/v1/auth/token", json: try JSONValue(encoding: TokenRequest(nonce: enrollmentNonce, proof: proof)),
                            headers: try device.dpop(.post, "/v1/auth/token")), 401,
                        "unknown, already used or expired")
                }
            }
        }
    }

    @Test("a data directory without a nonce key (written before nonce keys) gets one, private, at start")
    func missingNonceKeyIsMade() async throws {
        try await withDataDirectory { dir in
            let path = dir + "/keys/" + NonceMinter.keyName
            try await withServer(dataDirectory: dir) { _, _ in }
            #expect(FileManager.default.fileExists(atPath: path))
            try FileManager.default.removeItem(atPath: path)
            try await withServer(dataDirectory: dir) { client, admin in
                _ = try await RevocationTests.enroll(client, admin: admin)
            }
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            #expect((attributes[.size] as? NSNumber)?.intValue == 32)
        }
    }
}
