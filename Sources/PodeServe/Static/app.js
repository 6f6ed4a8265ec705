// pode's info browser: one page over the JSON API of `pode serve` (docs/serve.md).
// The URL holds the whole view (trace, query, moment, frame, tab), so a link reloads to it.
"use strict";

const state = {
  trace: "",     // trace id; "" is the newest
  q: "",         // the search
  at: null,      // the moment shown (an event number)
  frame: 0,      // the selected frame of the moment (0 is the innermost)
  tab: "hits",
  variable: "",  // the history shown
  page: null,    // the current page of hits: {hits, more_before, more_after}
  info: null,
};

const $ = (id) => document.getElementById(id);

/// An element with attributes and children (strings become text: nothing recorded is ever HTML).
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(path, params) {
  const query = new URLSearchParams();
  if (state.trace) query.set("trace", state.trace);
  for (const [k, v] of Object.entries(params || {})) {
    if (v !== undefined && v !== null && v !== "") query.set(k, v);
  }
  const response = await fetch(`/api/${path}?${query}`);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : `HTTP ${response.status}`);
  return body;
}

function showError(message) {
  const s = $("status");
  s.textContent = message;
  s.hidden = !message;
}

/// Runs an API call, showing what failed in the status bar.
async function attempt(work) {
  try {
    showError("");
    return await work();
  } catch (e) {
    showError(e.message);
    return undefined;
  }
}

// ---------------------------------------------------------------- the URL

function writeURL(push) {
  const p = new URLSearchParams();
  if (state.trace) p.set("trace", state.trace);
  if (state.q) p.set("q", state.q);
  if (state.at !== null) p.set("at", state.at);
  if (state.frame) p.set("frame", state.frame);
  if (state.tab !== "hits") p.set("tab", state.tab);
  if (state.variable) p.set("var", state.variable);
  const url = `${location.pathname}?${p}`;
  if (push) history.pushState(null, "", url); else history.replaceState(null, "", url);
}

function readURL() {
  const p = new URLSearchParams(location.search);
  state.trace = p.get("trace") || "";
  state.q = p.get("q") || "";
  const at = p.get("at");
  state.at = at !== null && /^\d+$/.test(at) ? Number(at) : null;
  state.frame = Number(p.get("frame") || 0) || 0;
  state.tab = p.get("tab") || "hits";
  state.variable = p.get("var") || "";
}

// ---------------------------------------------------------------- values

function shortPath(file) {
  const cwd = state.info && state.info.working_directory;
  return cwd && file.startsWith(cwd + "/") ? file.slice(cwd.length + 1) : file;
}

function valueText(v) {
  if (v.deleted) return "deleted";
  return v.value + (v.truncated ? (v.full_length ? `…(${v.full_length})` : "…") : "");
}

/// `name = value, …`, the matched values marked.
function valuesNode(values, onlyMatched) {
  const shown = onlyMatched && values.some((v) => v.matched) ? values.filter((v) => v.matched) : values;
  const node = el("div", { class: "vals" });
  shown.forEach((v, i) => {
    if (i) node.append(", ");
    const text = el(v.matched ? "mark" : "span", {}, valueText(v));
    node.append(el("span", { class: "name" }, v.name), v.deleted ? " " : " = ", text);
  });
  return node;
}

// ---------------------------------------------------------------- search

async function runSearch(push) {
  state.q = $("q").value.trim();
  writeURL(push);
  await loadHits({});
  loadFacets();
  loadTimeline();
}

async function loadHits(paging) {
  const list = $("hits");
  if (!state.q) {
    list.replaceChildren();
    $("hits-hint").hidden = false;
    $("hit-count").textContent = "";
    $("facets").replaceChildren(el("p", { class: "hint" }, "Facets of a search appear here: click one to narrow the search."));
    $("timeline").replaceChildren();
    return;
  }
  const page = await attempt(() => api("search", { q: state.q, limit: 50, ...paging }));
  if (!page) return;
  state.page = page;
  $("hits-hint").hidden = page.hits.length > 0;
  if (!page.hits.length) $("hits-hint").textContent = "Nothing in this run matches the query.";
  list.replaceChildren(...page.hits.map(hitNode));
  if (page.partial) {
    // The server's time ran out before the page filled: say how far it looked.
    const where = page.next_after !== undefined ? `up to #${page.next_after}` : `back to #${page.next_before}`;
    list.append(el("li", { class: "hint partial" }, `Searched ${where} so far; the query reads many blocks. Use the arrows to search on.`));
  }
  $("hits-earlier").disabled = !page.more_before;
  $("hits-later").disabled = !page.more_after;
  markCurrent();
}

function hitNode(h) {
  return el("li", { class: "hit", "data-seq": h.seq, onclick: () => openMoment(h.seq, 0, true) },
    el("div", { class: "where" },
      el("span", {}, `${shortPath(h.file)}:${h.line}`),
      el("span", {}, h.function),
      h.kind !== "line" ? el("span", { class: "kind" }, h.kind) : null,
      el("span", { class: "seq" }, `#${h.seq}`)),
    valuesNode(h.values, true));
}

async function loadFacets() {
  const q = state.q;
  const result = await attempt(() => api("facets", { q }));
  if (!result || q !== state.q) return;
  $("hit-count").textContent = result.complete ? `(${result.total.toLocaleString()})` : `(${result.total.toLocaleString()}+)`;
  $("hit-count").title = result.complete ? "" : `counted up to event #${result.counted_before}; the rest would take too long`;
  const box = $("facets");
  box.replaceChildren();
  for (const name of ["file", "func", "var", "kind", "type", "thread", "process"]) {
    const counts = Object.entries(result.facets[name] || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    if (!counts.length) continue;
    box.append(el("h4", {}, name));
    for (const [value, n] of counts.slice(0, 12)) {
      const label = name === "file" ? shortPath(value) : value;
      box.append(el("a", { href: "#", class: "facet", "data-facet": name, title: `${name}:${value}`,
        onclick: (ev) => { ev.preventDefault(); narrow(name, value); } },
        el("span", {}, label), el("span", {}, n.toLocaleString())));
    }
  }
}

/// Adds a facet's clause to the query, quoted so that any text is taken as it is.
function narrow(facet, value) {
  if (facet === "process") return; // one process a trace: nothing to narrow
  const clause = facet === "kind" || facet === "thread" ? `${facet}:${value}` : `${facet}:"${value.replace(/"/g, "")}"`;
  $("q").value = `${state.q} ${clause}`;
  runSearch(true);
}

async function loadTimeline() {
  const q = state.q;
  const strip = $("timeline");
  const result = await attempt(() => api("timeline", { q, buckets: 120 }));
  if (!result || q !== state.q) return;
  const most = Math.max(1, ...result.buckets.map((b) => b.hits));
  strip.replaceChildren(...result.buckets.map((b, i) => {
    const next = i + 1 < result.buckets.length ? result.buckets[i + 1].from - 1 : result.last_seq;
    const uncounted = !result.complete && b.from >= result.counted_before;
    return el("div", {
      class: uncounted ? "bucket uncounted" : b.hits ? "bucket" : "bucket empty", "data-from": b.from,
      style: `height: ${b.hits ? 4 + Math.round(26 * b.hits / most) : 2}px`,
      title: uncounted ? `events #${b.from}–#${next}: not counted (too slow for this query)` : `events #${b.from}–#${next}: ${b.hits} hits`,
      onclick: () => b.hits && jumpToHitFrom(b.from),
    });
  }));
  strip.dataset.first = result.first_seq;
  strip.dataset.last = result.last_seq;
  markTimeline();
}

async function jumpToHitFrom(from) {
  await loadHits({ after: from > 0 ? from - 1 : undefined });
  const first = state.page && state.page.hits[0];
  if (first) openMoment(first.seq, 0, true);
}

function markTimeline() {
  const strip = $("timeline");
  strip.querySelectorAll(".now").forEach((n) => n.remove());
  const first = Number(strip.dataset.first), last = Number(strip.dataset.last);
  if (state.at === null || !last) return;
  const x = (state.at - first) / Math.max(1, last - first + 1);
  strip.append(el("div", { class: "now", style: `left: calc(0.8em + ${x} * (100% - 1.6em))` }));
}

function markCurrent() {
  document.querySelectorAll(".hit, .change").forEach((n) => n.classList.toggle("current", Number(n.dataset.seq) === state.at));
}

// ---------------------------------------------------------------- the moment

async function openMoment(seq, frame, push) {
  const m = await attempt(() => api(`moment/${seq}`, { frame }));
  if (!m) return;
  state.at = m.seq;
  state.frame = m.selected_frame;
  writeURL(push);
  renderMoment(m);
  markCurrent();
  markTimeline();
}

function renderMoment(m) {
  const body = $("moment-body");
  body.dataset.seq = m.seq;
  $("moment").dataset.seq = m.seq;
  const head = el("h2", {}, `#${m.seq} ${m.kind} in ${m.function} at ${shortPath(m.file)}:${m.line} `,
    el("span", { class: "where" }, `frame #${m.frame}, thread ${m.thread}, depth ${m.depth}`));
  const values = m.values.length ? valuesNode(m.values, false) : null;

  const source = el("div", { class: "source" });
  for (const line of m.source) {
    source.append(el("div", { class: line.current ? "current" : "", "data-line": line.line },
      el("span", { class: "no" }, line.line), line.text));
  }
  if (!m.source.length) source.append(el("div", {}, "(the trace kept no source for this file)"));

  const depth = m.stack.length;
  const stack = el("ol", { class: "stack" }, m.stack.map((f, i) => {
    const index = depth - 1 - i; // the API counts frames from the innermost
    const args = f.args.filter((a) => !a.deleted).map((a) => `${a.name}=${a.value.length > 40 ? a.value.slice(0, 40) + "…" : a.value}`);
    return el("li", { class: index === m.selected_frame ? "selected" : "", "data-frame": index,
      onclick: () => openMoment(m.seq, index, true) },
      `${f.function}(${args.join(", ")})  ${shortPath(f.file)}:${f.line}`);
  }));

  const selected = m.stack[depth - 1 - m.selected_frame];
  const locals = (selected && selected.locals) || [];
  const table = el("table", { class: "locals" }, locals.map((v) => el("tr", {},
    el("td", {}, el("a", { class: "var", title: `every value ${v.name} held`, onclick: () => openHistory(v.name, true) }, v.name)),
    el("td", { class: "value" }, valueText(v)),
    el("td", { class: "set" }, el("a", { class: "seqlink", onclick: () => openMoment(v.set_at, 0, true) }, `set at #${v.set_at}`),
      ` line ${v.set_line}`))));

  body.replaceChildren(head, values || "", source,
    el("h3", {}, "Stack, outermost first"), stack,
    el("h3", {}, selected ? `Locals of ${selected.function}` : "Locals"),
    locals.length ? table : el("p", { class: "hint" }, "(none recorded)"));
  const current = source.querySelector(".current");
  if (current) current.scrollIntoView({ block: "center" });
  for (const b of document.querySelectorAll(".moves button")) {
    b.disabled = (b.dataset.move === "hit" || b.dataset.move === "rhit") && !state.q;
  }
}

async function move(how) {
  if (state.at === null) return;
  const params = { move: how, frame: state.frame };
  if (how === "hit" || how === "rhit") params.q = state.q;
  const target = await attempt(() => api(`step/${state.at}`, params));
  if (target) openMoment(target.seq, 0, true);
}

// ---------------------------------------------------------------- history

async function openHistory(name, push) {
  state.variable = name;
  showTab("history", push);
  $("history-title").textContent = `Every value of ${name}`;
  $("history").replaceChildren();
  await loadHistory(null);
}

async function loadHistory(after) {
  const result = await attempt(() => api("history", { var: state.variable, limit: 100, after }));
  if (!result) return;
  $("history-hint").hidden = result.changes.length > 0 || after !== null;
  if (!result.changes.length && after === null) $("history-hint").textContent = `No recorded value of ${state.variable}.`;
  $("history").append(...result.changes.map((c) => el("li", { class: "change", "data-seq": c.seq,
    onclick: () => openMoment(c.seq, 0, true) },
    el("div", { class: "where" }, el("span", {}, `${shortPath(c.file)}:${c.line}`), el("span", {}, `${c.function} (frame #${c.frame})`),
      el("span", { class: "seq" }, `#${c.seq}`)),
    valuesNode(c.values, true))));
  const more = $("history-more");
  more.hidden = !result.more_after;
  const last = result.changes.length ? result.changes[result.changes.length - 1].seq : null;
  more.onclick = () => loadHistory(last);
  markCurrent();
}

// ---------------------------------------------------------------- the call tree

async function loadCalls(list, under, after) {
  const result = await attempt(() => api("calls", { under, after, limit: 100 }));
  if (!result) return;
  for (const c of result.calls) list.append(callNode(c));
  if (result.more_after) {
    const last = result.calls[result.calls.length - 1];
    const more = el("li", {}, el("a", { class: "seqlink", onclick: () => { more.remove(); loadCalls(list, under, last.end || last.seq); } }, "more calls…"));
    list.append(more);
  }
  if (!result.calls.length && after === undefined) list.append(el("li", { class: "span" }, "(no calls)"));
}

function callNode(c) {
  const args = c.args.filter((a) => !a.deleted).map((a) => `${a.name}=${a.value.length > 40 ? a.value.slice(0, 40) + "…" : a.value}`);
  const children = el("ul", { hidden: true });
  const toggle = el("span", { class: "toggle" }, c.may_have_calls ? "▸" : "");
  let loaded = false;
  toggle.onclick = async () => {
    if (!c.may_have_calls) return;
    children.hidden = !children.hidden;
    toggle.textContent = children.hidden ? "▸" : "▾";
    if (!loaded) { loaded = true; await loadCalls(children, c.frame); }
  };
  const result = c.returned ? el("span", { class: "ret" }, ` -> ${c.returned.value}`)
    : c.raised ? el("span", { class: "raised" }, ` raised ${c.raised.value}`)
    : c.finished ? "" : el("span", { class: "span" }, " (did not return)");
  return el("li", { "data-frame": c.frame }, toggle,
    el("span", { class: "fn", title: "show this call", onclick: () => openMoment(c.seq, 0, true) }, c.function),
    `(${args.join(", ")})`, result,
    el("span", { class: "span" }, `  #${c.seq}..${c.end ? "#" + c.end : ""} ${shortPath(c.file)}:${c.line}`),
    children);
}

// ---------------------------------------------------------------- tabs, keys, start

function showTab(name, push) {
  state.tab = name;
  for (const b of document.querySelectorAll(".tabs button")) b.classList.toggle("active", b.dataset.tab === name);
  for (const t of ["hits", "calls", "history"]) $(`tab-${t}`).hidden = t !== name;
  if (name === "calls" && !$("calls").childElementCount) loadCalls($("calls"));
  writeURL(push);
}

const keys = { s: "step", ArrowRight: "step", b: "back", ArrowLeft: "back", n: "next", p: "prev", r: "out", u: "rout", "]": "hit", "[": "rhit" };

document.addEventListener("keydown", (ev) => {
  if (ev.target instanceof HTMLInputElement || ev.target instanceof HTMLSelectElement || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === "/") { ev.preventDefault(); $("q").focus(); return; }
  const how = keys[ev.key];
  if (how) { ev.preventDefault(); move(how); }
});

async function loadTraces() {
  const list = await attempt(() => api("traces"));
  const select = $("trace");
  select.replaceChildren(...((list && list.traces) || []).map((t) => el("option", { value: t.id }, `${t.id}: ${t.arguments.join(" ")}`)));
  if (state.trace) select.value = state.trace;
  select.hidden = select.options.length < 2;
}

async function loadInfo() {
  state.info = await attempt(() => api("trace"));
  const i = state.info;
  if (i) {
    $("trace-info").textContent = `${i.arguments.join(" ")} · ${i.last_seq.toLocaleString()} events · ${i.state}` +
      (i.exit_status !== undefined ? ` · exit ${i.exit_status}` : "");
    $("trace-info").title = i.path;
  }
}

async function start() {
  readURL();
  $("q").value = state.q;
  await loadTraces();
  await loadInfo();
  showTab(state.tab, false);
  if (state.q) {
    await loadHits(state.at !== null ? { after: state.at > 0 ? state.at - 1 : undefined } : {});
    loadFacets();
    loadTimeline();
  } else {
    loadHits({});
  }
  if (state.variable) openHistory(state.variable, false);
  if (state.at !== null) await openMoment(state.at, state.frame, false);
  document.body.dataset.ready = "1";
}

$("search-form").addEventListener("submit", (ev) => { ev.preventDefault(); runSearch(true); });
$("hits-earlier").onclick = () => state.page && state.page.next_before !== undefined && loadHits({ before: state.page.next_before });
$("hits-later").onclick = () => state.page && state.page.next_after !== undefined && loadHits({ after: state.page.next_after });
for (const b of document.querySelectorAll(".tabs button")) b.onclick = () => showTab(b.dataset.tab, true);
for (const b of document.querySelectorAll(".moves button")) b.onclick = () => move(b.dataset.move);
$("trace").onchange = () => { state.trace = $("trace").value; state.at = null; state.variable = ""; writeURL(true); location.reload(); };
window.addEventListener("popstate", () => location.reload());
start();
