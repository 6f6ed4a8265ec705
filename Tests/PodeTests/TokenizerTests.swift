import XCTest
@testable import PodeIndex
@testable import PodeQuery
import XapianKit

/// The index must hold every term Xapian's QueryParser makes of the same text, or a search
/// for text that is there would miss it.
final class TokenizerTests: XCTestCase {
    static let samples = [
        "needle-7f3a", "The Quick, brown FOX!", "word_count = 3", "it's a dog's life", "AT&T and C++ or C#",
        "pi is 3.14159 and 1,000,000", "héllo wörld ÉTÉ", "b'needle\\x00bytes'", "path/to/file.py:12",
        "user@example.com", "snake_case_name CamelCase", "tabs\tand\nnewlines", "日本語 テキスト", "x=1;y=2",
    ]

    func queryTerms(_ node: QueryNode) -> [String] {
        switch node {
        case .term(let t): return [t]
        case .phrase(_, let words), .near(_, let words): return words
        case .and(let k), .or(let k), .andNot(let k), .xor(let k), .andMaybe(let k): return k.flatMap(queryTerms)
        default: return []
        }
    }

    func testIndexedWordsCoverQueryParserTerms() throws {
        let parser = XapianQueryParser(fields: [])
        for text in Self.samples {
            var words = Set<String>()
            Tokenizer.forEachWord(in: text, parts: true) { words.insert($0) }
            // Quote the text so QueryParser reads it as words, not operators.
            let escaped = text.replacingOccurrences(of: "\"", with: " ")
            let program = try QueryNode.decode(try parser.parse("\"" + escaped + "\"").program)
            let terms = queryTerms(program)
            XCTAssertFalse(terms.isEmpty, "QueryParser made no terms of \(text)")
            for term in terms {
                XCTAssertTrue(words.contains(term), "'\(term)' of \(text) is not indexed; indexed: \(words.sorted())")
            }
        }
    }

    func testWordsAreLowerCasedAndJoinedLikeXapian() {
        var words: [String] = []
        Tokenizer.forEachWord(in: "It's C++ at 3.14, needle-7f3a") { words.append($0) }
        XCTAssertEqual(words, ["it's", "c++", "at", "3.14", "needle", "7f3a"])
        var parts: [String] = []
        Tokenizer.forEachWord(in: "b'x' 3.14", parts: true) { parts.append($0) }
        XCTAssertEqual(parts, ["b'x", "b", "x", "3.14"])
    }

    func testASCIIFastPathAgreesWithTheGeneralRules() {
        // The general path runs for text with any non-ASCII character; appending one must not
        // change the words of the ASCII part.
        for text in Self.samples where text.utf8.allSatisfy({ $0 < 0x80 }) {
            var fast: [String] = [], general: [String] = []
            Tokenizer.forEachWord(in: text, parts: true) { fast.append($0) }
            Tokenizer.forEachWord(in: text + " \u{e9}", parts: true) { general.append($0) }
            XCTAssertEqual(fast + ["\u{e9}"], general, text)
        }
    }
}
