import Foundation
import Testing
import VouchKit

@Suite("Bitstring Status List")
struct BitstringStatusListTests {
    /// `Vectors/bitstring-status-list/spec-example.json`: the all-clear list from the W3C Recommendation.
    private struct SpecVector: Decodable {
        let encodedList: String
        let bits: Int
        let setIndices: [Int]

        private enum CodingKeys: String, CodingKey {
            case encodedList
            case bits
            case setIndices = "set_indices"
        }
    }

    private static func specVector() throws -> SpecVector {
        let url = Bundle.module.url(forResource: "Vectors", withExtension: nil)!
            .appendingPathComponent("bitstring-status-list/spec-example.json")
        return try JSONDecoder().decode(SpecVector.self, from: Data(contentsOf: url))
    }

    /// `u` + base64url of `bytes`: an encoded list whose compressed data is exactly `bytes`.
    private static func multibase(_ bytes: [UInt8]) -> String {
        "u" + Base64URL.encode(bytes)
    }

    /// The GZIP bytes inside an encoded list.
    private static func compressedBytes(of encodedList: String) -> [UInt8] {
        Base64URL.decode(encodedList.dropFirst())!
    }

    /// Expects `body` to throw a `VouchKitError` whose reason contains `fragment`.
    private static func expectRejection(
        containing fragment: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ body: () throws -> Void
    ) {
        let error = #expect(throws: VouchKitError.self, sourceLocation: sourceLocation) { try body() }
        if let error {
            #expect(
                error.reason.localizedCaseInsensitiveContains(fragment),
                "\"\(error.reason)\" should mention \"\(fragment)\"",
                sourceLocation: sourceLocation
            )
        }
    }

    // MARK: Official vector

    @Test func specExampleDecodesToAllClearListOfMinimumSize() throws {
        let vector = try Self.specVector()
        let list = try BitstringStatusList(encodedList: vector.encodedList)
        #expect(list.size == vector.bits)
        #expect(list.size == 131_072)
        #expect(list.bytes.count == 16_384)
        #expect(list.bytes.allSatisfy { $0 == 0 })
        #expect(vector.setIndices.isEmpty)
        for index in [0, 1, 7, 8, 65_535, 131_071] {
            #expect(try list.isSet(index) == false)
        }
    }

    @Test func ownEncodingOfEmptyListDecodesBackEqualToSpecExample() throws {
        let empty = try BitstringStatusList()
        let encoded = empty.encodedList
        #expect(encoded.hasPrefix("u"))
        #expect(!encoded.contains("="))
        let decoded = try BitstringStatusList(encodedList: encoded)
        #expect(decoded == empty)
        #expect(try BitstringStatusList(encodedList: Self.specVector().encodedList) == decoded)
    }

    // MARK: Sizes

    @Test func defaultSizeIsTheSpecificationMinimum() throws {
        let list = try BitstringStatusList()
        #expect(list.size == 131_072)
        #expect(BitstringStatusList.minimumSize == 131_072)
        #expect(list.bytes == [UInt8](repeating: 0, count: 16_384))
    }

    @Test(arguments: [131_072, 131_080, 262_144, BitstringStatusList.maximumSize])
    func acceptsSizesThatAreLargeEnoughAndWholeBytes(size: Int) throws {
        let list = try BitstringStatusList(size: size)
        #expect(list.size == size)
        #expect(list.bytes.count == size / 8)
    }

    @Test(arguments: [Int.min, -8, 0, 8, 131_064, 131_071, 131_073, 131_079, BitstringStatusList.maximumSize + 8, Int.max])
    func rejectsSizesThatAreTooSmallTooLargeOrNotWholeBytes(size: Int) {
        #expect(throws: VouchKitError.self) { try BitstringStatusList(size: size) }
    }

    // MARK: Bit order

    @Test func indexZeroIsTheMostSignificantBitOfTheFirstByte() throws {
        var list = try BitstringStatusList()
        try list.set(0)
        #expect(list.bytes[0] == 0x80)
        #expect(list.bytes.dropFirst().allSatisfy { $0 == 0 })
        #expect(try list.isSet(0))
        #expect(try list[0])
        #expect(try !list.isSet(1))
    }

    @Test(arguments: [
        (1, 0, UInt8(0x40)), (7, 0, UInt8(0x01)), (8, 1, UInt8(0x80)), (9, 1, UInt8(0x40)),
        (131_071, 16_383, UInt8(0x01)),
    ])
    func eachIndexMapsToOneBitMostSignificantFirst(index: Int, byte: Int, mask: UInt8) throws {
        var list = try BitstringStatusList()
        try list.set(index)
        #expect(list.bytes[byte] == mask)
        #expect(list.bytes.enumerated().allSatisfy { $0.offset == byte || $0.element == 0 })
    }

    @Test func bitOrderSurvivesEncoding() throws {
        var list = try BitstringStatusList()
        try list.set(0)
        try list.set(131_071)
        let decoded = try BitstringStatusList(encodedList: list.encodedList)
        #expect(decoded.bytes.first == 0x80)
        #expect(decoded.bytes.last == 0x01)
    }

    // MARK: Setting, clearing, round trips

    @Test func clearUndoesSetAndLeavesOtherEntriesAlone() throws {
        var list = try BitstringStatusList()
        try list.set(42)
        try list.set(43)
        try list.clear(42)
        #expect(try !list.isSet(42))
        #expect(try list.isSet(43))
        try list.clear(43)
        #expect(list == (try BitstringStatusList()))
        try list.clear(44)
        #expect(list == (try BitstringStatusList()))
    }

    @Test(arguments: 0..<12)
    func randomEntriesRoundTripThroughEncoding(seed: Int) throws {
        var random = SplitMix64(seed: UInt64(seed))
        let size = BitstringStatusList.minimumSize + 8 * Int.random(in: 0...4_096, using: &random)
        let count = [0, 1, 2, 50, 1_000, size / 2][seed % 6]
        var expected = Set<Int>()
        while expected.count < count {
            expected.insert(Int.random(in: 0..<size, using: &random))
        }

        var list = try BitstringStatusList(size: size)
        for index in expected { try list.set(index) }

        let decoded = try BitstringStatusList(encodedList: list.encodedList)
        #expect(decoded == list)
        #expect(decoded.size == size)
        var found = Set<Int>()
        for index in 0..<size where try decoded.isSet(index) {
            found.insert(index)
        }
        #expect(found == expected)
    }

    @Test(arguments: 0..<4)
    func randomSetsAndClearsMatchAReferenceSet(seed: Int) throws {
        var random = SplitMix64(seed: 1_000 + UInt64(seed))
        var list = try BitstringStatusList()
        var reference = Set<Int>()
        for _ in 0..<5_000 {
            let index = Int.random(in: 0..<list.size, using: &random)
            if Bool.random(using: &random) {
                try list.set(index)
                reference.insert(index)
            } else {
                try list.clear(index)
                reference.remove(index)
            }
            #expect(try list[index] == reference.contains(index))
        }
        let decoded = try BitstringStatusList(encodedList: list.encodedList)
        for index in 0..<decoded.size {
            guard try decoded.isSet(index) == reference.contains(index) else {
                Issue.record("entry \(index) differs after a round trip")
                return
            }
        }
    }

    @Test func equalBitsMakeEqualListsAndDifferentBitsDoNot() throws {
        var a = try BitstringStatusList()
        var b = try BitstringStatusList()
        try a.set(5)
        try b.set(5)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        try b.set(6)
        #expect(a != b)
        #expect(try BitstringStatusList() != (try BitstringStatusList(size: 131_080)))
    }

    // MARK: Out-of-range indices

    @Test(arguments: [Int.min, -1, 131_072, 131_073, Int.max])
    func outOfRangeIndexIsAnErrorNotACrash(index: Int) throws {
        var list = try BitstringStatusList()
        Self.expectRejection(containing: "out of range") { _ = try list.isSet(index) }
        Self.expectRejection(containing: "out of range") { _ = try list[index] }
        Self.expectRejection(containing: "out of range") { try list.set(index) }
        Self.expectRejection(containing: "out of range") { try list.clear(index) }
        #expect(list == (try BitstringStatusList()))
    }

    // MARK: Malformed encodings

    @Test func rejectsAnEncodingWithoutTheMultibasePrefix() throws {
        let encoded = try Self.specVector().encodedList
        for text in [String(encoded.dropFirst()), "U" + encoded.dropFirst(), "z" + encoded.dropFirst(), ""] {
            Self.expectRejection(containing: "prefix 'u'") { _ = try BitstringStatusList(encodedList: text) }
        }
    }

    @Test(arguments: ["u", "uH4sI=", "uH4sIAA==", "uH4s I", "uH4s+", "uH4s/", "uA", "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwf\u{E9}"])
    func rejectsTextThatIsNotUnpaddedBase64url(text: String) {
        Self.expectRejection(containing: text == "u" ? "GZIP" : "base64url") {
            _ = try BitstringStatusList(encodedList: text)
        }
    }

    @Test func rejectsDataThatIsNotGzip() throws {
        let plain = Array(repeating: UInt8(0), count: 16_384)
        let zlibStream: [UInt8] = [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]
        for bytes in [plain, zlibStream, Array("hello, world".utf8), [0x1F]] {
            Self.expectRejection(containing: "GZIP") { _ = try BitstringStatusList(encodedList: Self.multibase(bytes)) }
        }
        let garbageAfterMagic: [UInt8] = [0x1F, 0x8B, 0x08, 0x00] + Array(repeating: 0xAB, count: 40)
        Self.expectRejection(containing: "GZIP") {
            _ = try BitstringStatusList(encodedList: Self.multibase(garbageAfterMagic))
        }
    }

    @Test(arguments: [1, 4, 8, 9, 20])
    func rejectsTruncatedGzip(droppedBytes: Int) throws {
        let gzip = Self.compressedBytes(of: try Self.specVector().encodedList)
        Self.expectRejection(containing: "truncated") {
            _ = try BitstringStatusList(encodedList: Self.multibase(Array(gzip.dropLast(droppedBytes))))
        }
    }

    @Test func rejectsGzipWithAWrongChecksum() throws {
        var gzip = ZeroFilledGzip.make(count: 16_384)
        gzip[gzip.count - 8] ^= 0xFF
        Self.expectRejection(containing: "corrupt") { _ = try BitstringStatusList(encodedList: Self.multibase(gzip)) }
    }

    @Test func rejectsTrailingDataAfterTheGzipStream() throws {
        let gzip = ZeroFilledGzip.make(count: 16_384)
        Self.expectRejection(containing: "trailing") {
            _ = try BitstringStatusList(encodedList: Self.multibase(gzip + [0x00]))
        }
        Self.expectRejection(containing: "trailing") {
            _ = try BitstringStatusList(encodedList: Self.multibase(gzip + gzip))
        }
    }

    @Test(arguments: [0, 1, 8_192, 16_383])
    func rejectsListsShorterThan131072Entries(byteCount: Int) {
        Self.expectRejection(containing: "at least 131072") {
            _ = try BitstringStatusList(encodedList: Self.multibase(ZeroFilledGzip.make(count: byteCount)))
        }
    }

    // MARK: Decompression limits

    @Test func zeroFilledGzipFixtureDecodesToTheSpecExample() throws {
        let list = try BitstringStatusList(encodedList: Self.multibase(ZeroFilledGzip.make(count: 16_384)))
        #expect(list == (try BitstringStatusList(encodedList: Self.specVector().encodedList)))
    }

    @Test func acceptsTheLargestList() throws {
        let gzip = ZeroFilledGzip.make(count: BitstringStatusList.maximumSize / 8)
        let list = try BitstringStatusList(encodedList: Self.multibase(gzip))
        #expect(list.size == BitstringStatusList.maximumSize)
        #expect(list.size == 134_217_728)
        #expect(try !list.isSet(list.size - 1))
    }

    @Test func rejectsAListOneByteLongerThanTheLimit() {
        let gzip = ZeroFilledGzip.make(count: BitstringStatusList.maximumSize / 8 + 1)
        Self.expectRejection(containing: "16 MiB") { _ = try BitstringStatusList(encodedList: Self.multibase(gzip)) }
    }

    @Test func rejectsADecompressionBomb() {
        // 64 MiB of zeros in about 420 KiB of GZIP. Decoding stops once 16 MiB have come out.
        let bomb = ZeroFilledGzip.make(count: 64 * 1024 * 1024)
        #expect(bomb.count < 512 * 1024)
        Self.expectRejection(containing: "decompression bomb") {
            _ = try BitstringStatusList(encodedList: Self.multibase(bomb))
        }
    }
}

/// A seeded random number generator (SplitMix64), so that a failing property test can be rerun.
private struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
