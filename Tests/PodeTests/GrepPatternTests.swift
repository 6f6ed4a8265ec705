import XCTest
@testable import PodeQuery

/// What grep takes from a pattern to narrow its search: never a word the index might not hold.
final class GrepPatternTests: XCTestCase {
    func required(_ pattern: String, fixed: Bool = false, words: Bool = false) throws -> [String] {
        let p = try GrepPattern(pattern, fixed: fixed, wholeWords: words)
        let (w, prefixes) = p.requiredWords()
        return w + prefixes.map { $0 + "*" }
    }

    func testLiteralWordsAndPrefixes() throws {
        // The first word may be the end of a longer one; the last may go on.
        XCTAssertEqual(try required("xneedle-7f3a"), ["7f3a*"])
        XCTAssertEqual(try required("total = 42 items"), ["42", "items*"])
        XCTAssertEqual(try required("needle-[0-9]+"), [])
        // A word start said by the pattern makes the first word usable.
        XCTAssertEqual(try required("\\bneedle-[0-9]+"), ["needle"])
        XCTAssertEqual(try required("^count = 3"), ["count", "3*"])
        XCTAssertEqual(try required("needle", words: true), ["needle*"])
        // Numbers join across . and , in the index: 3 in "x 3.5" is part of "3.5".
        XCTAssertEqual(try required("a 3.5 b"), ["3*", "b*"])
        XCTAssertEqual(try required("a c++ b", fixed: true), ["c*", "b*"])
    }

    func testQuantifiersGroupsAndAlternationsAreNotRequired() throws {
        XCTAssertEqual(try required("a (needle) b x"), ["b", "x*"])
        XCTAssertEqual(try required("foo|bar"), [])
        // What comes before an optional character or a bracket is only a prefix.
        XCTAssertEqual(try required(" abc? def"), ["ab*", "def*"])
        XCTAssertEqual(try required(" ab[cd] efg"), ["ab*", "efg*"])
        XCTAssertEqual(try required(" abc{0,2} def "), ["def", "ab*"])
    }

    func testMatchingAndWholeWords() throws {
        let p = try GrepPattern("ne+dle", wholeWords: true)
        XCTAssertTrue(p.matches("x = 'needle'"))
        XCTAssertFalse(p.matches("x = 'needles'"))
        XCTAssertEqual(try GrepPattern("a.c", fixed: true).matches(in: "abc a.c"), [4..<7])
        XCTAssertTrue(try GrepPattern("NEEDLE", ignoreCase: true).matches("needle"))
        XCTAssertThrowsError(try GrepPattern("(open"))
    }
}
