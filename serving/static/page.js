// The reading page: sends the article to /v1/analyze and draws the answer.
// Plain DOM code with no dependencies; every piece of text from the article or the server is
// set as text (never as HTML), and the API key lives in this closure only, never in storage.
"use strict";

(() => {
  // Paul Tol's "light" scheme: pale enough to read black text on, and kept apart under the
  // common colour-vision deficiencies (https://personal.sron.nl/~pault/). Its pale grey is
  // reserved for quotes without a speaker.
  const SPEAKER_COLOURS = [
    "#77AADD", "#EE8866", "#EEDD88", "#FFAABB", "#99DDFF", "#44BB99", "#BBCC33", "#AAAA00",
  ];
  const NO_SPEAKER_COLOUR = "#DDDDDD";
  const LABELS = ["favor", "against", "none"];
  const KIND_NAMES = { direct: "direct quote", mixed: "mixed quote", indirect: "reported speech" };
  // The choices a stance can be corrected to, with their keyboard keys; "not_a_quote" says the
  // quote is not this speaker's (kept in the store, never trained on).
  const PICKS = [
    { value: "favor", text: "favor", key: "f" },
    { value: "against", text: "against", key: "a" },
    { value: "none", text: "none", key: "n" },
    { value: "not_a_quote", text: "not this speaker", key: "x" },
  ];
  const PICK_NAMES = Object.fromEntries(PICKS.map((p) => [p.value, p.text]));

  const $ = (id) => document.getElementById(id);
  const state = {
    config: null,
    apiKey: null, // memory only: gone when the tab closes
    pending: false,
    busy: false,
    analysis: null,
    topics: [],
    colours: new Map(),
    selected: null,
    text: "", // the analysed article: label spans point into it
    saved: new Map(), // "quote index\u0000topic" -> the label saved for it
    threshold: null, // top probability under which the page marks a stance uncertain
  };

  // ---------------------------------------------------------------------------------------
  // Small helpers
  // ---------------------------------------------------------------------------------------

  function el(tag, props = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("data-") || key.startsWith("aria-") || key === "role") {
        node.setAttribute(key, value);
      } else node[key] = value;
    }
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  const fmt = (x) => x.toFixed(2);

  // "favor 0.62 · against 0.21 · none 0.17", each pair kept on one line
  function scores(scores, prefix = "") {
    const node = el("span", { class: "scores" }, prefix);
    LABELS.forEach((label, i) => {
      node.append(el("span", { text: `${label} ${fmt(scores[label])}` }), i < 2 ? " · " : "");
    });
    return node;
  }

  function chip(label) {
    return el("span", { class: "chip", "data-label": label, text: label });
  }

  // The model's label for one quote and topic: "uncertain" when the API says so (a request with
  // min_confidence) or when the top probability is under the page's threshold; dashed, with the
  // leading label and its probability beside it so it never reads as a decision.
  function isUncertain(s) {
    return s.label === "uncertain" || (state.threshold !== null && s.score < state.threshold);
  }

  function leading(scores) {
    return LABELS.reduce((best, label) => (scores[label] > scores[best] ? label : best), LABELS[0]);
  }

  function stanceChip(s) {
    if (!isUncertain(s)) return chip(s.label);
    const top = leading(s.scores);
    return el("span", {
      class: "chip uncertain",
      "data-label": "uncertain",
      text: `uncertain (${top} ${fmt(s.scores[top])})`,
    });
  }

  function bar(scores) {
    const node = el("span", { class: "bar", "aria-hidden": "true" });
    for (const label of LABELS) {
      const part = el("span", { "data-label": label });
      part.style.width = `${(100 * scores[label]).toFixed(1)}%`;
      node.append(part);
    }
    return node;
  }

  function swatch(colour) {
    const node = el("span", { class: "swatch", "aria-hidden": "true" });
    node.style.setProperty("--c", colour);
    return node;
  }

  function parseTopics(value) {
    return [...new Set(value.split("\n").map((t) => t.trim()).filter(Boolean))];
  }

  // The server counts offsets in code points, JavaScript strings in UTF-16 units.
  function offsetMapper(text) {
    if (!/[\uD800-\uDFFF]/.test(text)) return (i) => i;
    const units = [0];
    for (const ch of text) units.push(units[units.length - 1] + ch.length);
    return (i) => units[Math.min(i, units.length - 1)];
  }

  // ---------------------------------------------------------------------------------------
  // Messages
  // ---------------------------------------------------------------------------------------

  function showError(message, focus) {
    const box = $("error");
    box.textContent = message;
    box.hidden = false;
    setStatus("");
    if (focus) focus.focus();
  }

  function clearError() {
    $("error").hidden = true;
    $("error").textContent = "";
    for (const id of ["article", "topics"]) $(id).removeAttribute("aria-invalid");
  }

  function setStatus(message) {
    $("status").textContent = message;
  }

  function apiErrorMessage(status, body, retryAfter) {
    const code = body && body.error ? body.error.code : "";
    const said = body && body.error ? body.error.message : "";
    const wait = retryAfter ? `${retryAfter} s` : "a few seconds";
    if (status === 413 && code === "too_many_topics") {
      return `Too many topics for this server (${said}). Remove some and try again.`;
    }
    if (status === 413) {
      return `The article is too long for this server (${said}). Analyze it in parts.`;
    }
    if (status === 429) return `The server is busy right now. Try again in ${wait}.`;
    if (status === 503) return `The model is still loading. Try again in ${wait}.`;
    if (status === 422) return `The server could not use this input: ${said}.`;
    return `The server answered ${status}${said ? `: ${said}` : ""}. Try again, or check the server log.`;
  }

  // ---------------------------------------------------------------------------------------
  // Asking the server
  // ---------------------------------------------------------------------------------------

  const configReady = fetch("/page/config")
    .then((r) => (r.ok ? r.json() : null))
    .catch(() => null)
    .then((config) => {
      state.config = config;
      if (config) $("topic-limit").textContent = `, up to ${config.max_topics}`;
      if (config && config.api_key_required) askForKey("");
    });

  function askForKey(message) {
    state.apiKey = null;
    $("key-form").hidden = false;
    if (message) showError(message);
    $("key").focus();
  }

  function inputProblem(text, topics) {
    if (!text.trim()) return ["Paste an article first, or drop a .txt file on the article box.", "article"];
    if (!topics.length) return ["Type at least one topic, one per line.", "topics"];
    const limit = state.config && state.config.max_topics;
    if (limit && topics.length > limit) {
      const extra = topics.length - limit;
      return [
        `You typed ${topics.length} topics; this server takes at most ${limit} per article. ` +
          `Remove ${extra} and try again.`,
        "topics",
      ];
    }
    return null;
  }

  async function analyze() {
    if (state.busy) return;
    clearError();
    await configReady;
    const text = $("article").value;
    const topics = parseTopics($("topics").value);
    const problem = inputProblem(text, topics);
    if (problem) {
      $(problem[1]).setAttribute("aria-invalid", "true");
      showError(problem[0], $(problem[1]));
      return;
    }
    if (state.config && state.config.api_key_required && !state.apiKey) {
      state.pending = true;
      askForKey("This server needs an API key: type it below, then the article is analyzed.");
      return;
    }
    state.busy = true;
    $("analyze").disabled = true;
    $("form").setAttribute("aria-busy", "true");
    setStatus("Analyzing…");
    try {
      const headers = { "Content-Type": "application/json" };
      if (state.apiKey) headers.Authorization = `Bearer ${state.apiKey}`;
      let response;
      try {
        response = await fetch("/v1/analyze", {
          method: "POST",
          headers,
          body: JSON.stringify({ text, topics }),
          cache: "no-store",
        });
      } catch (err) {
        showError(`Could not reach the server (${err.message}). Is it still running?`);
        return;
      }
      const body = await response.json().catch(() => null);
      if (response.status === 401) {
        state.pending = true;
        askForKey(
          state.apiKey
            ? "The server refused this API key. Type it again."
            : "This server needs an API key: type it below, then the article is analyzed.",
        );
        return;
      }
      if (!response.ok || !body) {
        showError(apiErrorMessage(response.status, body, response.headers.get("Retry-After")));
        return;
      }
      render(body, text, topics);
      await measureRender();
    } finally {
      state.busy = false;
      $("analyze").disabled = false;
      $("form").removeAttribute("aria-busy");
    }
  }

  // From the last byte of the API's answer to the first frame that shows the analysis,
  // recorded as the Performance API measure "analysis-render".
  async function measureRender() {
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    const answers = performance
      .getEntriesByType("resource")
      .filter((e) => new URL(e.name).pathname === "/v1/analyze");
    if (!answers.length) return;
    const answered = answers[answers.length - 1].responseEnd;
    performance.measure("analysis-render", { start: answered, end: performance.now() });
    performance.clearResourceTimings();
  }

  // ---------------------------------------------------------------------------------------
  // Drawing the analysis
  // ---------------------------------------------------------------------------------------

  function render(analysis, text, topics) {
    state.analysis = analysis;
    state.topics = topics;
    const quotes = analysis.quotes.map((q, index) => ({ ...q, index }));
    state.colours = new Map();
    for (const q of [...quotes].sort((a, b) => a.start - b.start)) {
      if (q.speaker && !state.colours.has(q.speaker)) {
        state.colours.set(q.speaker, SPEAKER_COLOURS[state.colours.size % SPEAKER_COLOURS.length]);
      }
    }
    state.text = text;
    state.saved = new Map();
    renderText(text, quotes);
    renderSummary(analysis, quotes, topics);
    renderLabels();
    const unattributed = quotes.filter((q) => !q.speaker).length;
    $("unattributed").textContent = unattributed
      ? `${unattributed} quote${unattributed === 1 ? "" : "s"} without a known speaker, marked grey.`
      : "";
    $("results").hidden = false;
    selectSpeaker(null);
    if ($("results").getBoundingClientRect().top > window.innerHeight * 0.8) {
      $("results").scrollIntoView({ block: "start" });
    }
    const speakers = state.colours.size;
    setStatus(
      quotes.length
        ? `Found ${quotes.length} quote${quotes.length === 1 ? "" : "s"} by ` +
            `${speakers} speaker${speakers === 1 ? "" : "s"}.`
        : "No quotes found in this article.",
    );
  }

  function colourOf(speaker) {
    return speaker ? state.colours.get(speaker) : NO_SPEAKER_COLOUR;
  }

  // Quotes may nest (a mixed quote inside reported speech): marks nest the same way, and a
  // quote that crosses the end of the one around it is cut at that end.
  function renderText(text, quotes) {
    const root = $("text");
    root.replaceChildren();
    const unit = offsetMapper(text);
    const spans = quotes
      .map((q) => ({ q, start: unit(q.start), end: unit(q.end) }))
      .sort((a, b) => a.start - b.start || b.end - a.end);
    const open = [];
    let pos = 0;
    const parent = () => (open.length ? open[open.length - 1].node : root);
    const advance = (to) => {
      if (to > pos) parent().append(text.slice(pos, to));
      pos = Math.max(pos, to);
    };
    const close = () => {
      advance(open[open.length - 1].end);
      open.pop();
    };
    for (const span of spans) {
      while (open.length && open[open.length - 1].end <= span.start) close();
      const end = open.length ? Math.min(span.end, open[open.length - 1].end) : span.end;
      if (span.start < pos || end <= span.start) continue;
      advance(span.start);
      const node = el("mark", {
        class: "q",
        tabIndex: 0,
        "data-index": span.q.index,
        "data-kind": span.q.kind,
        "data-speaker": span.q.speaker || "",
      });
      node.style.setProperty("--c", colourOf(span.q.speaker));
      parent().append(node);
      open.push({ node, end });
    }
    while (open.length) close();
    advance(text.length);
  }

  function renderSummary(analysis, quotes, topics) {
    const byPair = new Map(analysis.speakers.map((s) => [`${s.speaker}\u0000${s.topic}`, s]));
    const counts = new Map();
    for (const q of quotes) if (q.speaker) counts.set(q.speaker, (counts.get(q.speaker) || 0) + 1);
    const head = el("tr", {}, el("th", { scope: "col", text: "Speaker" }));
    for (const topic of topics) head.append(el("th", { scope: "col", text: topic }));
    const body = el("tbody");
    for (const [speaker, colour] of state.colours) {
      const n = counts.get(speaker);
      const button = el(
        "button",
        { type: "button", class: "speaker", "data-speaker": speaker, "aria-pressed": "false" },
        swatch(colour),
        el("span", { class: "name", text: speaker }),
        el("span", { class: "count", text: `${n} quote${n === 1 ? "" : "s"}` }),
      );
      const row = el("tr", {}, el("th", { scope: "row" }, button));
      for (const topic of topics) {
        const s = byPair.get(`${speaker}\u0000${topic}`);
        row.append(
          s
            ? el(
                "td",
                {},
                chip(s.stance),
                bar(s.mean_scores),
                scores(s.mean_scores, "mean "),
              )
            : el("td", { text: "–" }),
        );
      }
      body.append(row);
    }
    $("summary").replaceChildren(el("thead", {}, head), body);
  }

  function selectSpeaker(speaker) {
    state.selected = speaker;
    hideTip();
    let shown = 0;
    for (const mark of $("text").querySelectorAll("mark.q")) {
      const dim = speaker !== null && mark.dataset.speaker !== speaker;
      mark.classList.toggle("dim", dim);
      if (!dim) shown += 1;
    }
    for (const button of $("summary").querySelectorAll("button.speaker")) {
      button.setAttribute("aria-pressed", String(button.dataset.speaker === speaker));
    }
    $("show-all").hidden = speaker === null;
    $("filter-note").textContent =
      speaker === null ? "" : `Marking only ${speaker}'s quotes (${shown}).`;
  }

  // ---------------------------------------------------------------------------------------
  // Correcting stances (saved to /v1/labels)
  // ---------------------------------------------------------------------------------------

  // How unsure the model is about a quote: the smallest gap between its two most likely labels
  // over the topics (0 = a coin toss); "most uncertain first" sorts on it.
  function margin(q) {
    return Math.min(
      ...q.stances.map((s) => {
        const [first, second] = LABELS.map((l) => s.scores[l]).sort((a, b) => b - a);
        return first - second;
      }),
    );
  }

  function renderLabels() {
    const list = $("label-list");
    const quotes = state.analysis.quotes.map((q, index) => ({ q, index, margin: margin(q) }));
    if ($("order").value === "uncertain") quotes.sort((a, b) => a.margin - b.margin || a.index - b.index);
    const items = quotes.map(({ q, index, margin: gap }) => {
      const who = q.speaker || "No speaker found";
      const rows = q.stances.map((s) => labelRow(q, index, s));
      return el(
        "li",
        { class: "label-item", "data-index": index },
        el(
          "p",
          { class: "who" },
          swatch(colourOf(q.speaker)),
          el("strong", { text: who }),
          el("span", { class: "how", text: ` · ${KIND_NAMES[q.kind] || q.kind} · margin ${fmt(gap)}` }),
        ),
        el("blockquote", { text: q.text }),
        ...rows,
      );
    });
    list.replaceChildren(...items);
    $("label-status").textContent = "";
  }

  function labelRow(q, index, s) {
    const key = `${index}\u0000${s.topic}`;
    const saved = state.saved.get(key);
    const row = el("div", {
      class: "label-row",
      role: "group",
      tabIndex: 0,
      "data-index": index,
      "data-topic": s.topic,
      "aria-label": `Stance of “${q.text.slice(0, 60)}” on ${s.topic}`,
    });
    if (saved) row.dataset.saved = saved;
    const picks = el("span", { class: "picks" });
    for (const pick of PICKS) {
      picks.append(
        el("button", {
          type: "button",
          class: "pick",
          "data-value": pick.value,
          "aria-pressed": String(saved === pick.value),
          "aria-keyshortcuts": pick.key.toUpperCase(),
          text: pick.text,
        }),
      );
    }
    row.append(
      el("span", { class: "topic", text: s.topic }),
      el("span", { class: "model" }, el("span", { class: "hint", text: "model: " }), stanceChip(s)),
      picks,
      el("span", { class: "saved", text: saved ? `saved: ${PICK_NAMES[saved]}` : "" }),
    );
    return row;
  }

  async function saveLabel(row, value) {
    const index = Number(row.dataset.index);
    const topic = row.dataset.topic;
    const q = state.analysis.quotes[index];
    const s = q.stances.find((x) => x.topic === topic);
    if (state.config && state.config.api_key_required && !state.apiKey) {
      askForKey("This server needs an API key to save labels: type it below, then choose again.");
      return;
    }
    const span = {};
    for (const k of ["text", "start", "end", "kind", "paragraph", "sentence_start", "sentence_end"]) span[k] = q[k];
    const label = {
      topic,
      label: value,
      speaker: q.speaker || null,
      span,
      model_label: s.label,
      model_scores: { favor: s.scores.favor, against: s.scores.against, none: s.scores.none },
    };
    const headers = { "Content-Type": "application/json" };
    if (state.apiKey) headers.Authorization = `Bearer ${state.apiKey}`;
    row.setAttribute("aria-busy", "true");
    let response;
    try {
      response = await fetch("/v1/labels", {
        method: "POST",
        headers,
        body: JSON.stringify({ article: state.text, labels: [label] }),
        cache: "no-store",
      });
    } catch (err) {
      showError(`Could not reach the server to save the label (${err.message}). Is it still running?`);
      return;
    } finally {
      row.removeAttribute("aria-busy");
    }
    const body = await response.json().catch(() => null);
    if (response.status === 401) {
      askForKey("The server needs a valid API key to save labels: type it below, then choose again.");
      return;
    }
    if (response.status !== 201 || !body) {
      showError(apiErrorMessage(response.status, body, response.headers.get("Retry-After")));
      return;
    }
    clearError();
    state.saved.set(`${index}\u0000${topic}`, value);
    row.dataset.saved = value;
    for (const button of row.querySelectorAll("button.pick")) {
      button.setAttribute("aria-pressed", String(button.dataset.value === value));
    }
    row.querySelector(".saved").textContent = `saved: ${PICK_NAMES[value]}`;
    const who = q.speaker || "the unattributed quote";
    $("label-status").textContent = `Saved “${PICK_NAMES[value]}” for ${who} on ${topic} (label ${body.ids[0]}).`;
  }

  // ---------------------------------------------------------------------------------------
  // The quote card (hover or focus)
  // ---------------------------------------------------------------------------------------

  let tipFor = null;

  function showTip(mark) {
    if (tipFor === mark) return;
    hideTip();
    const q = state.analysis.quotes[Number(mark.dataset.index)];
    const tip = $("tip");
    const who = q.speaker
      ? el("p", { class: "who" }, swatch(colourOf(q.speaker)), el("strong", { text: q.speaker }))
      : el("p", { class: "who" }, swatch(NO_SPEAKER_COLOUR), el("strong", { text: "No speaker found" }));
    const how = [KIND_NAMES[q.kind] || q.kind];
    if (q.cue) how.push(`cue “${q.cue}”`);
    if (q.speaker_mention && q.speaker_mention !== q.speaker) how.push(`named as “${q.speaker_mention}”`);
    const rows = el("dl", { class: "stances" });
    for (const s of q.stances) {
      rows.append(
        el("dt", { text: s.topic }),
        el("dd", {}, stanceChip(s), bar(s.scores), scores(s.scores)),
      );
    }
    tip.replaceChildren(who, el("p", { class: "how", text: how.join(" · ") }), rows);
    tip.hidden = false;
    placeTip(mark, tip);
    mark.setAttribute("aria-describedby", "tip");
    tipFor = mark;
  }

  function placeTip(mark, tip) {
    const lines = mark.getClientRects();
    const line = lines[lines.length - 1] || mark.getBoundingClientRect();
    const margin = 8;
    const width = tip.offsetWidth;
    const left = Math.max(margin, Math.min(line.left, document.documentElement.clientWidth - width - margin));
    let top = line.bottom + 6;
    if (top + tip.offsetHeight > window.innerHeight && line.top - tip.offsetHeight - 6 > 0) {
      top = lines[0].top - tip.offsetHeight - 6;
    }
    tip.style.left = `${left + window.scrollX}px`;
    tip.style.top = `${top + window.scrollY}px`;
  }

  function hideTip() {
    if (tipFor) tipFor.removeAttribute("aria-describedby");
    tipFor = null;
    $("tip").hidden = true;
  }

  // ---------------------------------------------------------------------------------------
  // Downloads
  // ---------------------------------------------------------------------------------------

  function download(name, type, data) {
    const url = URL.createObjectURL(new Blob([data], { type }));
    const link = el("a", { href: url, download: name });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  // A cell a spreadsheet would run as a formula is prefixed with ' (OWASP's CSV-injection advice),
  // also after leading spaces and in full-width forms (the rule of stance/spreadsheet.py).
  function csvCell(value) {
    let s = value === null || value === undefined ? "" : String(value);
    if (typeof value === "string" && /^\s*[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  function toCsv(analysis) {
    const columns = [
      "quote", "speaker", "speaker_mention", "cue", "kind", "paragraph", "group", "start", "end",
      "topic", "label", "score", "favor", "against", "none", "text",
    ];
    const lines = [columns.join(",")];
    analysis.quotes.forEach((q, i) => {
      for (const s of q.stances) {
        const row = [
          i, q.speaker, q.speaker_mention, q.cue, q.kind, q.paragraph, q.group, q.start, q.end,
          s.topic, s.label, s.score, s.scores.favor, s.scores.against, s.scores.none, q.text,
        ];
        lines.push(row.map(csvCell).join(","));
      }
    });
    return `${lines.join("\r\n")}\r\n`;
  }

  // ---------------------------------------------------------------------------------------
  // Reading a .txt file
  // ---------------------------------------------------------------------------------------

  async function readFile(file) {
    clearError();
    const isText = /\.txt$/i.test(file.name) || file.type === "text/plain";
    if (!isText) {
      showError(`Only plain-text .txt files can be read here; “${file.name}” is ${file.type || "another kind of file"}.`);
      return;
    }
    $("article").value = await file.text();
    setStatus(`Loaded “${file.name}” (${$("article").value.length} characters).`);
    $("topics").focus();
  }

  // ---------------------------------------------------------------------------------------
  // Wiring
  // ---------------------------------------------------------------------------------------

  $("form").addEventListener("submit", (e) => {
    e.preventDefault();
    analyze();
  });
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const key = $("key").value.trim();
    if (!key) {
      showError("Type the API key first.", $("key"));
      return;
    }
    state.apiKey = key;
    $("key").value = "";
    $("key-form").hidden = true;
    clearError();
    if (state.pending) {
      state.pending = false;
      analyze();
    } else {
      $("article").focus();
    }
  });
  document.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      if ($("key-form").contains(e.target)) $("key-form").requestSubmit();
      else analyze();
    } else if (e.key === "Escape") {
      hideTip();
    }
  });

  const text = $("text");
  text.addEventListener("mouseover", (e) => {
    const mark = e.target.closest("mark.q");
    if (mark) showTip(mark);
    else if (tipFor && document.activeElement !== tipFor) hideTip();
  });
  text.addEventListener("mouseleave", () => {
    if (tipFor && document.activeElement !== tipFor) hideTip();
  });
  text.addEventListener("focusin", (e) => {
    const mark = e.target.closest("mark.q");
    if (mark) showTip(mark);
  });
  text.addEventListener("focusout", hideTip);

  $("summary").addEventListener("click", (e) => {
    const button = e.target.closest("button.speaker");
    if (!button) return;
    const speaker = button.dataset.speaker;
    selectSpeaker(state.selected === speaker ? null : speaker);
  });
  $("show-all").addEventListener("click", () => selectSpeaker(null));
  $("download-json").addEventListener("click", () =>
    download("analysis.json", "application/json", `${JSON.stringify(state.analysis, null, 2)}\n`),
  );
  $("download-csv").addEventListener("click", () =>
    download("analysis.csv", "text/csv", toCsv(state.analysis)),
  );

  const labelList = $("label-list");
  labelList.addEventListener("click", (e) => {
    const button = e.target.closest("button.pick");
    if (button) saveLabel(button.closest(".label-row"), button.dataset.value);
  });
  labelList.addEventListener("keydown", (e) => {
    const row = e.target.closest(".label-row");
    if (!row || e.ctrlKey || e.metaKey || e.altKey) return;
    const pick = PICKS.find((p) => p.key === e.key.toLowerCase());
    if (!pick) return;
    e.preventDefault();
    saveLabel(row, pick.value);
  });
  $("order").addEventListener("change", () => {
    if (state.analysis) renderLabels();
  });
  $("threshold").addEventListener("input", () => {
    const value = $("threshold").value.trim();
    const number = Number(value);
    state.threshold = value === "" || !Number.isFinite(number) ? null : Math.min(1, Math.max(0, number));
    if (state.analysis) renderLabels();
  });

  $("file").addEventListener("change", (e) => {
    if (e.target.files.length) readFile(e.target.files[0]);
  });
  const form = $("form");
  form.addEventListener("dragover", (e) => {
    e.preventDefault();
    form.classList.add("dropping");
  });
  form.addEventListener("dragleave", () => form.classList.remove("dropping"));
  form.addEventListener("drop", (e) => {
    e.preventDefault();
    form.classList.remove("dropping");
    if (e.dataTransfer.files.length) readFile(e.dataTransfer.files[0]);
  });
})();
