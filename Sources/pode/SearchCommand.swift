import ArgumentParser
import Foundation
import PodeLog
import PodeQuery

enum ColorChoice: String, ExpressibleByArgument, CaseIterable {
    case auto, always, never
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Find every event whose values, names or place match a query, oldest first.",
        discussion: """
        The query language is Xapian's. Plain words match the words of recorded values and \
        variable names (case-insensitive); a hyphenated word or "quoted text" is a phrase. \
        Fields narrow the search: file:NAME (base name or full path), func:NAME, var:NAME, \
        kind:call|line|return|exception|yield|resume, thread:N, type:NAME, value:"EXACT TEXT" \
        (a whole value, case-sensitive), seq:A..B and line:A..B (either end may be left out). \
        A field value ending in * matches by prefix. Combine with AND, OR, NOT, parentheses, \
        +word and -word. A trace whose program forked is searched in every process (the first, \
        then each child in the order it started; --first and --last over all of them in time), \
        and each hit names its process; --pid N searches one. Exit status: 0 when something was \
        found, 1 when nothing was, 2 on error.
        """
    )

    @OptionGroup var traceOptions: TraceOptions
    @OptionGroup var display: DisplayOptions

    @Argument(help: "The query, for example: needle-7f3a, 'func:tokenize var:word', 'value:\"x\" kind:line'.")
    var query: String

    @Flag(help: "Print only the first (oldest) hit.")
    var first = false

    @Flag(help: "Print only the last (newest) hit.")
    var last = false

    @Option(help: "Print at most this many hits.")
    var limit: Int?

    @Flag(help: "Print the newest hits first.")
    var reverse = false

    @Flag(help: "Print only the number of matching events.")
    var count = false

    @Option(help: "After the hits, print exact hit counts per value of these facets: a comma-separated list of file, func, var, kind, type, thread, pid (all of them when no list is given; pid only for a trace with forked processes).")
    var facets: String?

    static let facetNames = FacetCounter.names
    /// Every facet --facets takes: the default ones and pid.
    static let allFacetNames = facetNames + [FacetCounter.processFacet]

    /// `--facets` may stand alone; give it its explicit value so ArgumentParser can read it.
    static func normalizeFacets(_ args: [String]) -> [String] {
        guard args.first == "search" else { return args }
        var out: [String] = []
        var i = 0
        while i < args.count {
            let a = args[i]
            if a == "--" { out += args[i...]; break }
            if a == "--facets" {
                let next = i + 1 < args.count ? args[i + 1] : ""
                let isList = !next.isEmpty && next.split(separator: ",").allSatisfy { allFacetNames.contains(String($0)) }
                if isList {
                    out.append("--facets=" + next)
                    i += 2
                } else {
                    out.append("--facets=" + facetNames.joined(separator: ","))
                    i += 1
                }
                continue
            }
            out.append(a)
            i += 1
        }
        return out
    }

    func validate() throws {
        if first && last { throw ValidationError("--first and --last cannot be used together") }
        if let limit, limit < 1 { throw ValidationError("--limit takes a number of at least 1") }
        if let facets {
            for f in facets.split(separator: ",") where !Self.allFacetNames.contains(String(f)) {
                throw ValidationError("unknown facet '\(f)'; the facets are \(Self.allFacetNames.joined(separator: ", "))")
            }
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let started = Date()
        let trace = try traceOptions.resolve()
        // Every process of the trace: the first, then each forked child (or the one --pid names).
        var parts: [(searcher: TraceSearcher, query: CompiledQuery)] = []
        do {
            for (dir, _) in try traceOptions.processes(of: trace) {
                let searcher = try TraceSearcher(trace: dir)
                parts.append((searcher, try searcher.compile(query)))
            }
        } catch let e as QueryError {
            throw CommandFailure(e.description)
        } catch let e as CommandFailure {
            throw e
        } catch {
            throw CommandFailure("cannot read the trace \(trace.path): \(error)")
        }
        let forked = parts.count > 1 || traceOptions.pid != nil
        let out = display.output()
        var facetList = facets.map { $0.split(separator: ",").map(String.init) } ?? []
        if facetList == Self.facetNames && forked { facetList.append(FacetCounter.processFacet) }
        var counter = FacetCounter(definitions: parts[0].searcher.definitions, facets: facetList)
        let maxHits: Int? = first || last ? 1 : limit
        let descending = last || reverse
        var hits = 0
        if display.json { out.jsonLine(type: "begin", ["trace": trace.path, "query": query]) }
        func show(_ hit: Hit, _ searcher: TraceSearcher) {
            out.hit(hit, definitions: searcher.definitions, metadata: searcher.metadata, process: forked ? searcher.metadata.pid : nil)
        }
        do {
            let counting = count || !facetList.isEmpty
            var counted = false
            if !count && (first || last) && parts.count > 1 {
                // The first (or last) in time over every process.
                var best: (Hit, TraceSearcher)?
                for (searcher, compiled) in parts {
                    try searcher.search(compiled, descending: descending) { hit in
                        if best.map({ descending ? hit.event.time > $0.0.event.time : hit.event.time < $0.0.event.time }) ?? true { best = (hit, searcher) }
                        return false
                    }
                }
                if let (hit, searcher) = best { show(hit, searcher); hits = 1 }
            } else if !count {
                // Hits to print: all of them (counting as they go when asked to), or up to the
                // limit; process by process, each in time order.
                let countWhilePrinting = counting && maxHits == nil
                var printed = 0
                for (searcher, compiled) in descending ? parts.reversed() : parts {
                    if let maxHits, printed >= maxHits { break }
                    var partCounter = FacetCounter(definitions: searcher.definitions, facets: facetList, pid: searcher.metadata.pid)
                    try searcher.search(compiled, descending: descending) { hit in
                        show(hit, searcher)
                        printed += 1
                        if countWhilePrinting { partCounter.add(hit) }
                        return maxHits.map { printed < $0 } ?? true
                    }
                    counter.merge(partCounter)
                }
                hits = printed
                if countWhilePrinting { counted = true }
            }
            // Counts and facets past the limit come from the block summaries where they can.
            if counting && !counted {
                hits = 0
                counter = FacetCounter(definitions: parts[0].searcher.definitions, facets: facetList)
                for (searcher, compiled) in parts {
                    var partCounter = FacetCounter(definitions: searcher.definitions, facets: facetList, pid: searcher.metadata.pid)
                    try searcher.tally(compiled) { hit, n in
                        hits += n
                        partCounter.add(hit, times: n)
                    }
                    counter.merge(partCounter)
                }
            }
        } catch let e as QueryError {
            throw CommandFailure(e.description)
        } catch {
            throw CommandFailure("search failed in \(trace.path): \(error)")
        }
        try finish(out, hits: hits, counter: counter, facetList: facetList, started: started)
    }

    private func finish(_ out: Output, hits: Int, counter: FacetCounter, facetList: [String], started: Date) throws {
        let json = display.json
        if count {
            if json { out.jsonLine(type: "count", ["count": hits]) } else { out.line(String(hits)) }
        }
        if !facetList.isEmpty { out.facets(counter.result, order: facetList) }
        if json {
            out.jsonLine(type: "end", ["hits": hits, "elapsed_ms": Int(Date().timeIntervalSince(started) * 1000)])
        }
        out.finish()
        if hits == 0 { throw ExitCode(1) }
    }
}
