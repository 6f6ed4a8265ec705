import Foundation
import XCTest

/// Secrets a recorded program uses never reach any byte of the trace directory.
final class SecretsTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws { dir = try Harness.tempDirectory() }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// Secrets come in on stdin (so the program's text does not hold them) and on the command
    /// line, and flow into variables, arguments, attributes, dict values, containers, bytes and
    /// an exception; two more are literals in the source.
    static let program = """
    import sys

    class Client:
        def __init__(self, api_key, host):
            self.api_key = api_key
            self.host = host

    def connect(user, password):
        client = Client(password, "db.example")
        return client

    def main():
        password = sys.stdin.readline().strip()
        gh = sys.stdin.readline().strip()
        aws = sys.stdin.readline().strip()
        jwt = sys.stdin.readline().strip()
        pin_code = sys.stdin.readline().strip()
        client = connect("ana", password)
        headers = {"Authorization": "Bearer " + gh, "session": password, "plain": 1}
        note = "using " + gh
        keys = [aws, 1, 2]
        blob = ("-----BEGIN RSA PRIVATE KEY-----\\n" + password + "\\n-----END RSA PRIVATE KEY-----").encode()
        try:
            raise ValueError("bad token " + jwt)
        except ValueError as e:
            err = e
        literal_password = "hunter2-in-source"
        config = {'api_key': "hunter3-in-source", "name": "visible"}
        print(len(note), len(keys), len(blob), len(jwt), client.host, len(headers), len(config), len(pin_code))

    main()

    """

    static let stdin = """
    Sup3rPlainPw
    ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5
    AKIAIOSFODNN7EXAMPLE
    eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U
    4711-0815-pin

    """

    static let secrets = ["Sup3rPlainPw", "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5", "AKIAIOSFODNN7EXAMPLE",
                          "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0", "hunter2-in-source", "hunter3-in-source",
                          "CLIPASS-77", "CLITOKEN-88"]

    /// The files under `path` whose bytes contain `needle`.
    func files(under path: String, containing needle: String) throws -> [String] {
        var found: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: path)
        while let name = enumerator?.nextObject() as? String {
            let full = path + "/" + name
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue else { continue }
            let data = try Data(contentsOf: URL(fileURLWithPath: full))
            if data.range(of: Data(needle.utf8)) != nil { found.append(name) }
        }
        return found
    }

    func record(_ extra: [String], into trace: String) throws -> Run {
        try Harness.write(Self.program, to: "prog.py", in: dir)
        return try Harness.pode(["record", "-o", trace] + extra + ["prog.py", "--password", "CLIPASS-77", "--token=CLITOKEN-88"],
                                in: dir, stdin: Self.stdin)
    }

    func testNoSecretReachesAnyByteOfTheTrace() throws {
        let r = try record(["--redact", "pin"], into: "trace")
        let plain = try Harness.run(Harness.python, ["prog.py", "--password", "CLIPASS-77"], in: dir, stdin: Self.stdin)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, plain.stdout)
        for secret in Self.secrets + ["4711-0815-pin"] {
            XCTAssertEqual(try files(under: dir + "/trace", containing: secret), [], "\(secret) is in the trace")
        }
        // The values are there, as <redacted>, and what is not secret is kept.
        let hits = try Harness.pode(["search", "--trace", "trace", "var:password OR var:api_key OR var:note OR var:pin_code"], in: dir)
        XCTAssertEqual(hits.status, 0, hits.stderr)
        for line in hits.stdout.split(separator: "\n") {
            XCTAssertTrue(line.contains("<redacted>"), String(line))
        }
        let visible = try Harness.pode(["search", "--trace", "trace", "--count", "value:\"db.example\""], in: dir)
        XCTAssertNotEqual(visible.stdout, "0\n")
        // Owner only.
        for sub in ["", "/index", "/sources"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/trace" + sub)
            XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o700, "trace\(sub)")
        }
    }

    /// The check above can fail: without redaction the same secrets are in the trace.
    func testNoRedactKeepsEveryValue() throws {
        let r = try record(["--no-redact"], into: "open")
        XCTAssertEqual(r.status, 0, r.stderr)
        for secret in Self.secrets {
            XCTAssertNotEqual(try files(under: dir + "/open", containing: secret), [], "\(secret) should be kept with --no-redact")
        }
    }

    func testABadRedactPatternIsRefusedBeforeAnythingIsWritten() throws {
        let r = try record(["--redact", "("], into: "bad")
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--redact '(' is not a valid regular expression"), r.stderr)
        XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad"))
    }
}
