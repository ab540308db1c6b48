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

function stringOf(value) {
  return typeof value === "string" ? value : "";
}

// A short readable name for a source address: its site and the last part of its path.
// For ordinary messages only: a verdict card's links come with their titles.
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

// True for a verdict card as the server builds it (channels/card.py): an object
// with the verdict's label.
function isCard(card) {
  return Boolean(card) && typeof card === "object" && !Array.isArray(card) &&
    typeof card.label === "string" && Boolean(card.label.trim());
}

// One of a card's items as a list item: its text, or a link shown by its title
// (https only); null if it is neither.
function cardItem(item) {
  if (!item || typeof item !== "object") return null;
  if (typeof item.url === "string") {
    const href = httpUrl(item.url);
    const title = stringOf(item.title).trim();
    return href && href.startsWith("https:") && title ? el("li", {}, link(href, title)) : null;
  }
  return stringOf(item.text).trim() ? el("li", {}, item.text) : null;
}

// The eligibility verdict card, drawn from the card the server built from the
// verdict (channels/card.py, sent as `custom.card`): what it is for, the verdict,
// the summary, then each section under its heading. The server says what each part
// holds, in the same words Slack and Teams show; this only draws it, all as text.
// Null if `card` is not one (the verdict's text is then shown instead).
export function renderCard(card) {
  if (!isCard(card)) return null;
  const tone = NAME.test(stringOf(card.tone)) ? card.tone : "neutral";
  const node = el("div", { class: `cc-card cc-card--${tone}`, role: "group",
                           "aria-label": "Eligibility verdict" });
  node.append(el("p", { class: "cc-card-kicker" }, stringOf(card.kicker)));
  node.append(el("p", { class: "cc-verdict" },
    el("span", { class: "cc-verdict-mark", "aria-hidden": "true" }, stringOf(card.mark)), card.label));
  for (const paragraph of strings(card.summary)) {
    node.append(el("p", { class: "cc-card-summary" }, paragraph));
  }
  for (const section of Array.isArray(card.sections) ? card.sections : []) {
    if (!section || typeof section !== "object" || !stringOf(section.heading).trim()) continue;
    const items = (Array.isArray(section.items) ? section.items : []).map(cardItem).filter(Boolean);
    if (!items.length) continue;
    const links = items.every((item) => item.querySelector("a"));
    node.append(el("p", { class: "cc-card-heading" }, section.heading));
    node.append(el("ul", { class: links ? "cc-sources" : null }, ...items));
  }
  return node;
}

// A bot message as sent by Rasa's REST or socket.io channel -> the entry kept in the
// history: {from: "bot", text?, buttons?, card?}; null if nothing to show.
export function botEntry(message) {
  if (!message || typeof message !== "object") return null;
  const entry = { from: "bot" };
  if (typeof message.text === "string" && message.text.trim()) entry.text = message.text;
  const buttons = (Array.isArray(message.buttons) ? message.buttons : message.quick_replies) || [];
  const usable = buttons.filter((b) => b && typeof b.title === "string" && typeof b.payload === "string");
  if (usable.length) entry.buttons = usable.map((b) => ({ title: b.title, payload: b.payload }));
  const custom = message.custom;
  if (custom && typeof custom === "object" && isCard(custom.card)) entry.card = custom.card;
  return entry.text || entry.buttons || entry.card ? entry : null;
}
