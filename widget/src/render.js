// Turns the assistant's messages into DOM nodes. Text is only ever set with
// textContent / text nodes: nothing from the server or the user is parsed as HTML.
// Links are made only for http(s) addresses and open in a new tab.

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?)\]}'"]+$/;
const BULLET = /^\s*[-•]\s+/;

export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

export function httpUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

export function visuallyHidden(text) {
  return el("span", { class: "cc-sr" }, text);
}

export function link(href, label) {
  return el("a", { href, target: "_blank", rel: "noopener noreferrer" },
    label, visuallyHidden(" (opens in a new tab)"));
}

// A line that is only "Title: https://..." names its page: the link shows the title.
const TITLED_LINK = /^\s*([^:\n]{2,120}?):\s+(https?:\/\/\S+)\s*$/i;

// Appends `text` to `parent`, with every http(s) address in it made a link. The
// assistant's links are labelled (the page's title where the line gives one, else
// sourceLabel's short name), as addresses run to 170 characters; what the person
// typed keeps its addresses as written (`labelled` false).
export function appendLinkedText(parent, text, { labelled = false } = {}) {
  const titled = labelled ? TITLED_LINK.exec(text) : null;
  const titledHref = titled ? httpUrl(titled[2].replace(TRAILING, "")) : null;
  if (titledHref) {
    parent.append(link(titledHref, titled[1].trim()));
    return;
  }
  let from = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const found = match[0].replace(TRAILING, "");
    const href = httpUrl(found);
    if (!href) continue;
    parent.append(document.createTextNode(text.slice(from, match.index)));
    parent.append(link(href, labelled ? sourceLabel(href) : found));
    from = match.index + found.length;
  }
  parent.append(document.createTextNode(text.slice(from)));
}

// Lines become paragraphs; a run of "- " lines becomes a list; blank lines separate.
export function renderText(text, { labelled = false } = {}) {
  const fragment = document.createDocumentFragment();
  let list = null;
  let paragraph = null;
  for (const line of String(text).split(/\r?\n/)) {
    if (BULLET.test(line)) {
      paragraph = null;
      if (!list) fragment.append((list = el("ul")));
      const item = el("li");
      appendLinkedText(item, line.replace(BULLET, ""), { labelled });
      list.append(item);
    } else if (!line.trim()) {
      list = paragraph = null;
    } else {
      list = null;
      if (paragraph) paragraph.append(el("br"));
      else fragment.append((paragraph = el("p")));
      appendLinkedText(paragraph, line, { labelled });
    }
  }
  return fragment;
}

function strings(value) {
  return Array.isArray(value) ? value.filter((v) => typeof v === "string" && v.trim()) : [];
}

// A short readable name for a source address: its site and the last part of its path.
export function sourceLabel(href) {
  const url = new URL(href);
  const site = url.hostname.replace(/^www\./, "");
  const last = url.pathname.split("/").filter(Boolean).pop();
  if (!last) return site;
  const words = decodeURIComponent(last).replace(/\.[a-z]+$/i, "").replace(/[-_]+/g, " ").trim();
  return words ? `${site}: ${words}` : site;
}

// A payload value that is a usable name: a short string of letters, digits and _.
const NAME = /^[a-z0-9_]{1,40}$/i;

// True for a `custom.assessment` payload: an object with a verdict name.
function isAssessment(assessment) {
  return Boolean(assessment) && typeof assessment === "object" &&
    typeof assessment.verdict === "string" && NAME.test(assessment.verdict);
}

// The eligibility verdict card, from a `custom.assessment` payload; null if the
// payload is not one. The payload says how to show the verdict and programme
// (careers/vocabulary.py), so the widget spells neither; a payload without a label
// (kept in a history from an older version) shows its verdict name in words.
// The verdict's text is the card's fallback: its paragraphs before the first list
// ("What I understood: ...", "From what you've told me, ...") are the card's summary.
export function summaryOf(text) {
  const kept = [];
  for (const paragraph of String(text || "").split(/\n\s*\n/)) {
    if (/:\s*$/.test(paragraph.split("\n")[0]) || BULLET.test(paragraph)) break;
    if (paragraph.trim()) kept.push(paragraph.trim());
  }
  return kept;
}

function listed(card, heading, items, { className = null, links = false } = {}) {
  if (!items.length) return;
  card.append(el("p", { class: "cc-card-heading" }, heading));
  const list = el("ul", { class: className });
  for (const value of items) {
    const item = el("li");
    if (links) item.append(link(value, sourceLabel(value)));
    else appendLinkedText(item, value, { labelled: true });
    list.append(item);
  }
  card.append(list);
}

export function renderAssessment(assessment, text = "") {
  if (!isAssessment(assessment)) return null;
  const named = typeof assessment.verdict_label === "string" && assessment.verdict_label.trim();
  const label = named ? assessment.verdict_label : assessment.verdict.replace(/_/g, " ")
    .replace(/^./, (first) => first.toUpperCase());
  const verdict = { label, mark: String(assessment.verdict_mark || "") };
  const programme = String(assessment.programme_name || assessment.programme || "");
  const tone = NAME.test(String(assessment.verdict_tone || "")) ? assessment.verdict_tone : "neutral";
  const card = el("div", { class: `cc-card cc-card--${tone}`, role: "group",
                           "aria-label": "Eligibility verdict" });
  card.append(el("p", { class: "cc-card-kicker" }, "Eligibility check", programme ? `: ${programme}` : ""));
  card.append(el("p", { class: "cc-verdict" },
    el("span", { class: "cc-verdict-mark", "aria-hidden": "true" }, verdict.mark), verdict.label));
  for (const paragraph of summaryOf(text)) {
    const node = el("p", { class: "cc-card-summary" });
    appendLinkedText(node, paragraph.replace(/\s*\n\s*/g, " "), { labelled: true });
    card.append(node);
  }
  listed(card, "Why", strings(assessment.reasons));
  listed(card, "What next", strings(assessment.next_steps));
  const sources = [...new Set(strings(assessment.sources).map(httpUrl).filter(Boolean))];
  listed(card, "Sources", sources, { className: "cc-sources", links: true });
  return card;
}

// A bot message as sent by Rasa's REST or socket.io channel -> the entry kept in the
// history: {from: "bot", text?, buttons?, assessment?}; null if nothing to show.
export function botEntry(message) {
  if (!message || typeof message !== "object") return null;
  const entry = { from: "bot" };
  if (typeof message.text === "string" && message.text.trim()) entry.text = message.text;
  const buttons = (Array.isArray(message.buttons) ? message.buttons : message.quick_replies) || [];
  const usable = buttons.filter((b) => b && typeof b.title === "string" && typeof b.payload === "string");
  if (usable.length) entry.buttons = usable.map((b) => ({ title: b.title, payload: b.payload }));
  const custom = message.custom;
  if (custom && typeof custom === "object" && isAssessment(custom.assessment)) {
    entry.assessment = custom.assessment;
  }
  return entry.text || entry.buttons || entry.assessment ? entry : null;
}
