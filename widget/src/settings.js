// The widget's settings: from the <script> tag's data-* attributes and from an
// optional `window.CareersChat = {...}` object set before the script runs. The
// object wins where both give a value.

export const DEFAULTS = {
  serverUrl: "http://localhost:5005",
  title: "Careers assistant",
  primaryColour: "#005eb8",
  openingMessage:
    "Hello! I can tell you how to get into clinical engineering in the NHS and check " +
    "whether you're eligible for a training programme. Please don't tell me your name or " +
    "contact details: I don't need them. What would you like to know?",
  launcherLabel: "Ask about careers",
  // "auto": socket.io, falling back to REST where socket.io is blocked; "rest": REST only.
  transport: "auto",
  // Quick replies offered with the opening message. The server reads a payload in the
  // /intent form only from a button it offered: these are its greeting's
  // (utter_greet in domain.yml); other suggestions should send plain text.
  suggestions: [
    { title: "How do I get in?", payload: "/ask_entry_routes" },
    { title: "Check my eligibility", payload: "/check_eligibility" },
    { title: "Skills needed", payload: "/ask_skills" },
  ],
};

// data-* attribute (as in dataset) -> setting
const ATTRIBUTES = {
  serverUrl: "serverUrl",
  title: "title",
  primaryColour: "primaryColour",
  primaryColor: "primaryColour",
  openingMessage: "openingMessage",
  launcherLabel: "launcherLabel",
  transport: "transport",
};

function text(value) {
  return typeof value === "string" && value.trim() ? value.trim() : undefined;
}

function suggestions(value) {
  if (!Array.isArray(value)) return undefined;
  return value
    .filter((b) => b && typeof b.title === "string" && typeof b.payload === "string")
    .map((b) => ({ title: b.title, payload: b.payload }));
}

export function readSettings(dataset, globalObject) {
  const settings = { ...DEFAULTS };
  for (const [attribute, key] of Object.entries(ATTRIBUTES)) {
    const value = text(dataset && dataset[attribute]);
    if (value !== undefined) settings[key] = value;
  }
  const given = globalObject && typeof globalObject === "object" ? globalObject : {};
  for (const key of Object.keys(DEFAULTS)) {
    const source = key === "primaryColour" && given.primaryColor !== undefined ? "primaryColor" : key;
    if (given[source] === undefined) continue;
    const value = key === "suggestions" ? suggestions(given[source]) : text(given[source]);
    if (value !== undefined) settings[key] = value;
  }
  settings.serverUrl = settings.serverUrl.replace(/\/+$/, "");
  settings.transport = settings.transport === "rest" ? "rest" : "auto";
  return settings;
}
