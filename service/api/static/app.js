// pressqa chat page. Every piece of server text goes into the DOM through textContent, never innerHTML:
// release text and answers are untrusted.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { history: [], busy: false, releaseOffset: 0, pollTimer: null };
const PAGE = 50;
const HISTORY_TURNS = 20; // messages sent as history (the API takes at most 50)

// ---- API access with an optional bearer key (asked for on 401, kept for this tab only) ----------

function apiKey() { return sessionStorage.getItem("pressqa.apiKey") || ""; }

function askForKey() {
  return new Promise((resolve) => {
    const overlay = $("key-overlay");
    overlay.hidden = false;
    $("key-input").value = "";
    $("key-input").focus();
    $("key-form").onsubmit = (event) => {
      event.preventDefault();
      sessionStorage.setItem("pressqa.apiKey", $("key-input").value.trim());
      overlay.hidden = true;
      resolve();
    };
  });
}

async function api(path, options = {}) {
  for (;;) {
    const headers = new Headers(options.headers || {});
    if (apiKey()) headers.set("Authorization", "Bearer " + apiKey());
    const response = await fetch(path, { ...options, headers });
    if (response.status !== 401) return response;
    await askForKey();
  }
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch (_) { /* not JSON */ }
  return "HTTP " + response.status;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- chat ---------------------------------------------------------------------------------------

function addMessage(role, text) {
  const node = el("div", "msg " + role, text);
  $("messages").appendChild(node);
  node.scrollIntoView({ block: "end" });
  return node;
}

function citationChip(citation) {
  const chip = el("button", "cite-chip", "[" + citation.n + "]");
  chip.type = "button";
  chip.dataset.n = String(citation.n);
  chip.title = (citation.title || "") + (citation.date ? " (" + citation.date + ")" : "") + "\n" + (citation.quote || "");
  chip.addEventListener("click", () => openRelease(citation.release_id, citation.start, citation.end));
  return chip;
}

// Re-render a finished answer: the short answer in bold with its chip, then the quote it came from with the
// answer highlighted; other answers (abstentions, older servers) as text whose [n] markers become chips.
function renderAnswer(node, answer) {
  const text = answer.answer || "";
  const citations = answer.citations || [];
  const byN = new Map(citations.map((c) => [c.n, c]));
  node.textContent = "";
  const first = citations[0];
  if (!answer.abstained && answer.short_answer && first) {
    const head = el("div", "short-answer");
    head.appendChild(el("strong", "", answer.short_answer));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(citationChip(first));
    node.appendChild(head);
    const quote = el("blockquote", "answer-quote");
    const q = first.quote || "";
    const start = answer.answer_start, end = answer.answer_end;
    if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start && end <= q.length) {
      quote.appendChild(document.createTextNode(q.slice(0, start)));
      quote.appendChild(el("mark", "", q.slice(start, end)));
      quote.appendChild(document.createTextNode(q.slice(end)));
    } else {
      quote.textContent = q;
    }
    node.appendChild(quote);
    if (typeof answer.confidence === "number") {
      node.appendChild(el("div", "confidence", "confidence " + Math.round(answer.confidence * 100) + "%"));
    }
  } else {
    const marker = /\[(\d+)\]/g;
    let last = 0;
    let match;
    while ((match = marker.exec(text)) !== null) {
      node.appendChild(document.createTextNode(text.slice(last, match.index)));
      const citation = byN.get(Number(match[1]));
      node.appendChild(citation ? citationChip(citation) : document.createTextNode(match[0]));
      last = marker.lastIndex;
    }
    node.appendChild(document.createTextNode(text.slice(last)));
  }
  if (answer.abstained) node.classList.add("abstained");
  if (byN.size) {
    const list = el("div", "cite-list");
    for (const citation of byN.values()) {
      const chip = citationChip(citation);
      chip.textContent = "[" + citation.n + "] " + (citation.title || citation.release_id) + (citation.date ? " · " + citation.date : "");
      list.appendChild(chip);
    }
    node.appendChild(list);
  }
}

// Parse server-sent events from a fetch body; calls onEvent(name, object) per event ("message" when unnamed).
async function readSSE(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trim());
      }
      if (!data.length) continue;
      if (data.join("\n") === "[DONE]") return;
      onEvent(name, JSON.parse(data.join("\n")));
      // Deltas that arrive in one burst are still shown one after another, like typing.
      if (name === "delta" && buffer.includes("\n\n")) await new Promise((resolve) => setTimeout(resolve, 12));
    }
  }
}

// The native stream: "status" events (what the chain is doing) until the text starts, "delta" pieces, "answer".
async function ask(question) {
  state.busy = true;
  $("send").disabled = true;
  addMessage("user", question);
  const node = addMessage("assistant", "");
  node.classList.add("pending");
  node.textContent = "thinking…";
  let text = "";
  let answer = null;
  try {
    const response = await api("/api/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question, history: state.history.slice(-HISTORY_TURNS) }),
    });
    if (!response.ok) throw new Error(await errorText(response));
    await readSSE(response, (name, data) => {
      if (name === "error") throw new Error((data.error && data.error.message) || "error");
      if (name === "status" && !text) {
        node.textContent = data.message || "working…";
        node.classList.add("working");
      } else if (name === "delta" && data.text) {
        text += data.text;
        node.classList.remove("working");
        node.textContent = text;
        node.scrollIntoView({ block: "end" });
      } else if (name === "answer") {
        answer = data;
      }
    });
    if (!answer) throw new Error("the answer stream ended early");
    node.classList.remove("working");
    renderAnswer(node, { ...answer, answer: answer.answer || text });
    state.history.push({ role: "user", content: question }, { role: "assistant", content: answer.answer || text });
  } catch (err) {
    node.className = "msg error";
    node.textContent = "Error: " + err.message;
  } finally {
    node.classList.remove("pending");
    node.classList.add("done");
    state.busy = false;
    $("send").disabled = false;
  }
}

// ---- release viewer -----------------------------------------------------------------------------

async function openRelease(id, start, end) {
  const response = await api("/api/releases/" + encodeURIComponent(id));
  const viewer = $("viewer");
  viewer.hidden = false;
  const body = $("viewer-text");
  body.textContent = "";
  if (!response.ok) {
    $("viewer-title").textContent = "Release not available";
    $("viewer-meta").textContent = await errorText(response);
    return;
  }
  const release = await response.json();
  $("viewer-title").textContent = release.title || release.id;
  $("viewer-meta").textContent = [release.published, release.source, release.place, release.url || release.origin]
    .filter(Boolean).join(" · ");
  const text = release.text || "";
  if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && end > start && end <= text.length) {
    body.appendChild(document.createTextNode(text.slice(0, start)));
    const mark = el("mark", "", text.slice(start, end));
    body.appendChild(mark);
    body.appendChild(document.createTextNode(text.slice(end)));
    mark.scrollIntoView({ block: "center" });
  } else {
    body.textContent = text;
    viewer.scrollTop = 0;
  }
}

// ---- releases list, upload, progress ------------------------------------------------------------

async function loadReleases(append) {
  if (!append) state.releaseOffset = 0;
  const params = new URLSearchParams({ offset: String(state.releaseOffset), limit: String(PAGE) });
  if ($("since").value) params.set("since", $("since").value);
  if ($("until").value) params.set("until", $("until").value);
  const response = await api("/api/releases?" + params);
  if (!response.ok) {
    $("release-count").textContent = await errorText(response);
    return;
  }
  const page = await response.json();
  const list = $("release-list");
  if (!append) list.textContent = "";
  for (const item of page.items) {
    const button = el("button", "", (item.published ? item.published.slice(0, 10) + " · " : "") + (item.title || item.id));
    button.type = "button";
    button.title = item.id;
    button.addEventListener("click", () => openRelease(item.id));
    const li = el("li");
    li.appendChild(button);
    list.appendChild(li);
  }
  state.releaseOffset += page.items.length;
  $("release-count").textContent = page.total + (page.total === 1 ? " release" : " releases") + " indexed";
  $("more-releases").hidden = !page.has_more;
}

async function upload(event) {
  event.preventDefault();
  const files = $("upload-files").files;
  if (!files.length) return;
  const form = new FormData();
  for (const file of files) form.append("files", file, file.name);
  $("upload-result").textContent = "Indexing…";
  const response = await api("/api/releases", { method: "POST", body: form });
  if (!response.ok) {
    $("upload-result").textContent = "Upload refused: " + (await errorText(response));
    return;
  }
  const s = await response.json();
  $("upload-result").textContent = `Added ${s.added}, updated ${s.updated}, unchanged ${s.unchanged} (${s.chunks} chunks)` +
    (s.skipped.length ? `; skipped ${s.skipped.length}` : "") + (s.errors.length ? `; ${s.errors.length} failed` : "");
  $("upload-form").reset();
  loadReleases(false);
}

async function pollReady() {
  let delay = 2000;
  try {
    const response = await fetch("/readyz");
    const status = await response.json();
    const ix = status.indexing || {};
    const bar = $("progress");
    if (status.error) {
      $("status").textContent = "Not ready: " + status.error;
    } else if (!status.ready) {
      $("status").textContent = "Loading models and index…";
    } else if (ix.active) {
      const total = ix.releases_total || ix.total;
      const done = ix.releases_total ? ix.releases_done : ix.done;
      const percent = total ? Math.floor((100 * done) / total) : 0;
      $("status").textContent = `Indexing the bundled corpus: ${done.toLocaleString()} of ${total.toLocaleString()} releases ` +
        `(${percent}%), ${ix.releases.toLocaleString()} releases and ${ix.chunks.toLocaleString()} chunks searchable so far`;
      delay = 1000;
    } else {
      $("status").textContent = `Ready · ${ix.releases} release${ix.releases === 1 ? "" : "s"} indexed`;
      delay = 15000;
    }
    bar.hidden = !ix.active;
    if (ix.releases_total) { bar.max = ix.releases_total; bar.value = ix.releases_done; }
    else if (ix.total) { bar.max = ix.total; bar.value = ix.done; }
    if (status.ready && (ix.active || !state.loadedOnce)) {
      state.loadedOnce = true;
      if (!state.releaseOffset || state.releaseOffset <= PAGE) loadReleases(false);
    }
  } catch (_) {
    $("status").textContent = "Server unreachable";
  }
  state.pollTimer = setTimeout(pollReady, delay);
}

document.addEventListener("DOMContentLoaded", () => {
  $("ask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const question = $("question").value.trim();
    if (!question || state.busy) return;
    $("question").value = "";
    ask(question);
  });
  $("question").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      $("ask-form").requestSubmit();
    }
  });
  $("new-chat").addEventListener("click", () => {
    state.history = [];
    $("messages").textContent = "";
  });
  $("filter-form").addEventListener("submit", (event) => { event.preventDefault(); loadReleases(false); });
  $("more-releases").addEventListener("click", () => loadReleases(true));
  $("upload-form").addEventListener("submit", upload);
  $("viewer-close").addEventListener("click", () => { $("viewer").hidden = true; });
  pollReady();
});
