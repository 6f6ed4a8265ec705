import Foundation
import XCTest

/// Recording options: value rendering, scope and the interpreter.
final class RecordOptionsTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws { dir = try Harness.tempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    static let reprProgram = """
    class Loud:
        def __repr__(self):
            return "Loud-custom-repr"
    class Broken:
        def __repr__(self):
            raise ValueError("no repr here")
    a = Loud()
    b = Broken()
    print("done")

    """

    func testSafeRenderingNeverCallsReprButFullDoes() throws {
        try Harness.write(Self.reprProgram, to: "r.py", in: dir)
        XCTAssertEqual(try Harness.pode(["record", "-o", "safe", "r.py"], in: dir).stdout, "done\n")
        XCTAssertEqual(try Harness.pode(["search", "--trace", "safe", "Loud-custom-repr"], in: dir).status, 1)
        let full = try Harness.pode(["record", "-o", "full", "--repr=full", "r.py"], in: dir)
        XCTAssertEqual(full.stdout, "done\n")
        XCTAssertEqual(full.status, 0)
        let hit = try Harness.pode(["search", "--trace", "full", "--first", "var:a"], in: dir)
        XCTAssertTrue(hit.stdout.contains("a = Loud-custom-repr"), hit.stdout)
        let broken = try Harness.pode(["search", "--trace", "full", "--first", "var:b"], in: dir)
        XCTAssertTrue(broken.stdout.contains("<repr raised ValueError>"), broken.stdout)
    }

    func testLongValuesAreBoundedWithTheirTrueLength() throws {
        try Harness.write("big = 'x' * 5000\nsmall = 'tail-marker'\n", to: "b.py", in: dir)
        XCTAssertEqual(try Harness.pode(["record", "-o", "t", "--max-value", "64", "b.py"], in: dir).status, 0)
        let r = try Harness.pode(["search", "--trace", "t", "--json", "var:big"], in: dir)
        let value = (Harness.jsonLines(r.stdout, type: "match").first?["values"] as? [[String: Any]])?.first
        XCTAssertEqual(value?["truncated"] as? Bool, true)
        XCTAssertEqual(value?["full_length"] as? Int, 5000)
        XCTAssertLessThanOrEqual((value?["value"] as? String)?.utf8.count ?? 999, 64)
    }

    func testScopeDefaultsToUserCodeAndCanBeWidenedOrNarrowed() throws {
        try Harness.write("import json\nfrom helper import twice\nout = json.dumps({'k': twice(21)})\n", to: "main.py", in: dir)
        try Harness.write("def twice(x):\n    return x * 2\n", to: "helper.py", in: dir)
        XCTAssertEqual(try Harness.pode(["record", "-o", "mine", "main.py"], in: dir).status, 0)
        let files = try Harness.pode(["search", "--trace", "mine", "--json", "kind:call", "--facets", "file"], in: dir)
        let mine = Set((Harness.jsonLines(files.stdout, type: "facets").first?["file"] as? [String: Int] ?? [:]).keys.map { ($0 as NSString).lastPathComponent })
        XCTAssertEqual(mine, ["main.py", "helper.py"], "stdlib json is out of scope by default")

        XCTAssertEqual(try Harness.pode(["record", "-o", "all", "--all", "main.py"], in: dir).status, 0)
        XCTAssertEqual(try Harness.pode(["search", "--trace", "all", "--first", "file:encoder.py"], in: dir).status, 0, "--all records json's encoder")

        XCTAssertEqual(try Harness.pode(["record", "-o", "narrow", "--exclude", "helper.py", "main.py"], in: dir).status, 0)
        XCTAssertEqual(try Harness.pode(["search", "--trace", "narrow", "func:twice"], in: dir).status, 1)
        XCTAssertEqual(try Harness.pode(["search", "--trace", "narrow", "value:42"], in: dir).status, 1)
        XCTAssertEqual(try Harness.pode(["search", "--trace", "narrow", "--first", "var:out"], in: dir).status, 0)
    }

    func testAVirtualenvInterpreterBringsItsSitePackages() throws {
        let venv = try Harness.run(Harness.python, ["-m", "venv", "--without-pip", "venv"], in: dir)
        try XCTSkipIf(venv.status != 0, "python3.11 -m venv is not available: \(venv.stderr)")
        let site = try Harness.run(dir + "/venv/bin/python", ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], in: dir)
        let purelib = site.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try Harness.write("def hello():\n    return 'from-the-venv'\n", to: "venvonly.py", in: purelib)
        try Harness.write("import sys, venvonly\nprint(venvonly.hello(), sys.prefix.endswith('venv'))\n", to: "v.py", in: dir)
        let plain = try Harness.run(dir + "/venv/bin/python", ["v.py"], in: dir)
        let recorded = try Harness.pode(["record", "-o", "v", "--python", dir + "/venv/bin/python", "v.py"], in: dir)
        XCTAssertEqual(recorded.stdout, plain.stdout)
        XCTAssertEqual(recorded.stdout, "from-the-venv True\n")
        // The venv's site-packages are library code: out of scope by default.
        XCTAssertEqual(try Harness.pode(["search", "--trace", "v", "func:hello"], in: dir).status, 1)
    }

    func testAnInterpreterThatIsNotPython311IsRefused() throws {
        let r = try Harness.pode(["record", "--python", "/bin/true", "-c", "print(1)"], in: dir)
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.hasPrefix("pode: cannot use the interpreter /bin/true"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), [], "nothing was written")
    }
}
