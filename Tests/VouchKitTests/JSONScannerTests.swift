import Foundation
import Testing
@testable import VouchKit

/// The one-pass JSON reader on the verification hot paths must accept exactly what a strict JSON
/// parser accepts, decode strings the same way, and refuse repeated members where it reads them.
@Suite("JSON scanner")
struct JSONScannerTests {
    static let valid = [
        #"{}"#, #"[]"#, #"{"a":1}"#, #" { "a" : [ 1 , -2.5e+3 , 0 , 0.1 , 1E9 ] } "#, #"{"a":{"b":{"c":[true,false,null]}}}"#,
        #"{"s":"\u00e9\ud83d\ude00\n\t\"\\\/"}"#, #"{"a":"\u0000"}"#, #"["x",{"y":[]}]"#, #"-0"#, #""plain""#,
    ]
    static let invalid = [
        "", "{", "}", "[", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "{a:1}", "{'a':1}", "01", "1.", ".5", "-", "1e",
        "+1", "NaN", "tru", "nul", "\"unterminated", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"tab\there\"",
        "{} {}", "{}x", "[\"\\ud83d\\u0041\"]",
    ]

    @Test("accepts what JSONSerialization accepts, and refuses what it refuses")
    func agreement() throws {
        for text in Self.valid {
            var scanner = JSONScanner(Array(text.utf8))
            #expect(throws: Never.self, "\(text)") {
                try scanner.skipValue()
                try scanner.finish()
            }
            #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8), options: .fragmentsAllowed)) != nil, "\(text)")
        }
        for text in Self.invalid {
            var scanner = JSONScanner(Array(text.utf8))
            #expect(throws: VouchKitError.self, "\(text)") {
                try scanner.skipValue()
                try scanner.finish()
            }
        }
        var invalidUTF8 = JSONScanner([0x22, 0xC3, 0x28, 0x22])
        #expect(throws: VouchKitError.self) { _ = try invalidUTF8.readString() }
    }

    @Test("strings decode like Foundation's decoder")
    func strings() throws {
        for text in [#""\u00e9\ud83d\ude00\n\t\"\\\/""#, #""plain ascii""#, #""naïve 日本""#, #""\u0041\u0000b""#] {
            var scanner = JSONScanner(Array(text.utf8))
            let ours = try scanner.readString()
            let theirs = try JSONDecoder().decode(String.self, from: Data(text.utf8))
            #expect(ours == theirs)
        }
    }

    @Test("deep nesting is refused, not a stack overflow")
    func depth() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        var scanner = JSONScanner(Array(deep.utf8))
        #expect(throws: VouchKitError.self) { try scanner.skipValue() }
    }

    @Test("a credential or header repeating a member it reads is refused")
    func duplicates() throws {
        let credential = #"{"@context":["https://www.w3.org/ns/credentials/v2"],"type":"VerifiableCredential","issuer":"did:key:a","issuer":"did:key:b","credentialSubject":{}}"#
        #expect(throws: VouchKitError.self) { try Credential(bytes: Array(credential.utf8)) }
        #expect(throws: VouchKitError.self) { try JOSEHeader(json: Array(#"{"alg":"EdDSA","kid":"a","kid":"b"}"#.utf8)) }
        #expect(throws: VouchKitError.self) { try JOSEHeader(json: Array(#"{"kid":"a"}"#.utf8)) }
        let header = try JOSEHeader(json: Array(#"{"alg":"EdDSA","typ":"vc+jwt","x-unknown":{"nested":[1,2]}}"#.utf8))
        #expect(header.alg == "EdDSA")
        #expect(header.typ == "vc+jwt")
    }

    @Test("credentials read by the scanner match the full JSON")
    func credentialFields() throws {
        for name in ["credential-jose-minimal.txt", "credential-jose-vc-vp-claims.txt"] {
            let jws = try CompactJWS(parsing: try Vectors.text("vc-jose-cose/\(name)"))
            let credential = try Credential(bytes: jws.payloadBytes)
            let json = try JSONValue(parsing: jws.payload)
            #expect(credential.issuer == json["issuer"]?.stringValue)
            #expect(credential.types == json["type"]?.arrayValue.compactMap(\.stringValue))
            #expect(credential.subjectIDs == [json["credentialSubject"]?["id"]?.stringValue].compactMap { $0 })
            #expect(credential.validFrom == json["validFrom"]?.stringValue)
            #expect(credential.contexts == json["@context"]?.arrayValue.compactMap(\.stringValue))
        }
    }
}
