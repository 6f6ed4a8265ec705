import Foundation
import XCTest

/// The differential test: every program of Tests/oracle's corpus (the project's own programs,
/// PyPI packages, standard-library modules run with -m) recorded by pode and by a plain
/// sys.settrace reference recorder, event by event and value by value, and run unrecorded.
final class OracleTests: XCTestCase {
    func testEveryEventAndValueMatchesTheReferenceRecorder() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let venvPython = root + "/.build/oracle-venv/bin/python"
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: venvPython),
                      "the corpus's virtualenv is missing: run scripts/setup.sh debug tests")
        let work = try Harness.tempDirectory()
        defer { try? FileManager.default.removeItem(atPath: work) }
        let r = try Harness.run(Harness.python, [root + "/Tests/oracle/oracle.py", Harness.pode, venvPython, work, "--json"], in: work, timeout: 1800)
        let results = r.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertGreaterThanOrEqual(results.count, 18, "the harness ran too few programs: \(r.stderr)")
        for result in results {
            let name = result["program"] as? String ?? "?"
            let events = result["events"] as? Int ?? -1
            print("oracle: \(name): \(result["events_matched"] ?? 0)/\(events) events, \(result["values_matched"] ?? 0)/\(result["values"] ?? 0) values")
            XCTAssertGreaterThan(events, 0, "\(name): nothing recorded")
            XCTAssertEqual(result["same_output"] as? Bool, true, "\(name): output differs from an unrecorded run: \(result["output_difference"] ?? "")")
            XCTAssertNil(result["reference_broken"], "\(name): the reference recorder failed")
            XCTAssertEqual(result["ok"] as? Bool, true, "\(name): \(result["differences"] ?? "")")
        }
        // Repeated last, so that a log cut short still names what differed.
        let differing = results.filter { $0["ok"] as? Bool != true }.map { "\($0["program"] ?? "?"): \($0["differences"] ?? "") \($0["output_difference"] ?? "")" }
        XCTAssertEqual(r.status, 0, "programs that differ: \(differing.joined(separator: "; ")) \(r.stderr)")
    }
}
