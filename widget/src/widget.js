// The chat widget: a launcher button and a non-modal chat dialog, inside a shadow
// root so the host page's styles and ours keep apart.

import styles from "./styles.css";
import { resolveColour, theme, DARK_TEXT } from "./colour.js";
import { Connection, newMessageId } from "./connection.js";
import { botEntry, el, renderCard, renderText, visuallyHidden } from "./render.js";
import { ConversationStore } from "./storage.js";

const TYPING_QUIET_MS = 1200; // the typing dots go once the bot has been quiet this long
const TYPING_LIMIT_MS = 60000;
// No reply this long after a message (the server answers within its action timeout,
// 10 s, even when part of it is down): say so, and offer to send it again.
const NO_REPLY_MS = 20000;
// What the "Delete" button sends: one of the phrases the assistant always reads as
// a request to delete the conversation (config.yml, ControlPhrases).
const DELETE_REQUEST = "Delete my conversation";

// A speech bubble, drawn rather than an emoji (not every system has an emoji font).
function chatIcon() {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "22");
  svg.setAttribute("height", "22");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
  path.setAttribute("fill", "currentColor");
  svg.append(path);
  return svg;
}

const STATUS_TEXT = {
  offline: "Can't reach the assistant – trying again…",
  back: "Connected again.",
};

export class CareersChat {
  constructor(settings) {
    this.settings = settings;
    this.store = new ConversationStore(settings.serverUrl);
    this.connection = null;
    this.wasOffline = false;
    this.typingTimer = null;
    this.typingLimit = null;
    this.statusTimer = null;
    this.noReplyTimer = null;
    this.lastSaid = null;
    this.replyStart = null; // the first message of the reply being shown
    this.answered = false; // whether a reply to lastSaid has come (replayed ones aside)
  }

  mount(parent) {
    const host = el("div", { id: "careers-chat" });
    const root = host.attachShadow({ mode: "open" });
    root.append(el("style", {}, styles));
    this.host = host;
    this.root = root;
    this.build(root);
    parent.append(host);
    this.applyTheme();
    this.restore();
    if (this.store.open) this.open({ focus: false });
    return this;
  }

  build(root) {
    const s = this.settings;
    this.launcher = el("button", {
      type: "button", class: "cc-launcher", "aria-expanded": "false", "aria-controls": "cc-panel",
    }, chatIcon(), s.launcherLabel);

    this.statusLine = el("p", { class: "cc-status", role: "status" });
    this.log = el("div", {
      class: "cc-log", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-label": "Conversation", tabindex: "0",
    });
    this.typing = el("div", { class: "cc-typing", hidden: true },
      el("span", { class: "cc-dot", "aria-hidden": "true" }),
      el("span", { class: "cc-dot", "aria-hidden": "true" }),
      el("span", { class: "cc-dot", "aria-hidden": "true" }),
      visuallyHidden("The assistant is typing"));
    this.input = el("input", {
      id: "cc-input", class: "cc-input", type: "text", autocomplete: "off",
      placeholder: "Type your question", enterkeyhint: "send",
    });
    this.form = el("form", { class: "cc-form" },
      el("label", { for: "cc-input", class: "cc-sr" }, "Your message to the careers assistant"),
      this.input,
      el("button", { type: "submit", class: "cc-send" }, "Send"));
    this.restartButton = el("button", { type: "button", class: "cc-header-button cc-restart" }, "Start again");
    this.deleteButton = el("button", {
      type: "button", class: "cc-header-button cc-delete", "aria-label": "Delete this conversation",
    }, "Delete");
    this.closeButton = el("button", {
      type: "button", class: "cc-header-button cc-close", "aria-label": "Close chat",
    }, el("span", { "aria-hidden": "true" }, "×"));
    this.panel = el("div", {
      id: "cc-panel", class: "cc-panel", role: "dialog", "aria-labelledby": "cc-title", hidden: true,
    },
    el("div", { class: "cc-header" },
      el("h2", { id: "cc-title", class: "cc-title" }, s.title),
      this.restartButton, this.deleteButton, this.closeButton),
    this.statusLine, this.log, this.typing, this.form);

    root.append(el("aside", { class: "cc", "aria-label": s.title }, this.panel, this.launcher));

    this.launcher.addEventListener("click", () => (this.isOpen() ? this.close() : this.open()));
    this.closeButton.addEventListener("click", () => this.close());
    this.restartButton.addEventListener("click", () => this.restart());
    this.deleteButton.addEventListener("click", () => this.confirmDelete());
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      this.input.value = "";
      this.say(text, text);
    });
    this.panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") {
        event.stopPropagation();
        this.close();
      }
    });
  }

  applyTheme() {
    const scratch = el("span");
    this.root.append(scratch);
    let primary = resolveColour(this.settings.primaryColour, scratch);
    scratch.remove();
    if (!primary) {
      console.warn(`careers-chat: "${this.settings.primaryColour}" is not a colour; using the default.`);
      primary = [0, 94, 184];
    }
    const colours = theme(primary);
    const target = this.host.style;
    target.setProperty("--cc-primary", colours.primary);
    target.setProperty("--cc-on-primary", colours.onPrimary);
    target.setProperty("--cc-accent", colours.accentOnWhite);
    target.setProperty("--cc-text", DARK_TEXT);
  }

  isOpen() {
    return !this.panel.hidden;
  }

  open({ focus = true } = {}) {
    this.panel.hidden = false;
    this.launcher.setAttribute("aria-expanded", "true");
    this.host.classList.add("cc-is-open");
    this.store.setOpen(true);
    this.connect();
    this.scrollToReply();
    if (focus) this.input.focus();
  }

  close() {
    this.panel.hidden = true;
    this.launcher.setAttribute("aria-expanded", "false");
    this.host.classList.remove("cc-is-open");
    this.store.setOpen(false);
    this.launcher.focus();
  }

  // Connects on first opening, so pages where nobody chats cost the server nothing.
  connect() {
    if (this.connection) return;
    this.connection = new Connection({
      serverUrl: this.settings.serverUrl,
      transport: this.settings.transport,
      sessionId: this.store.sessionId,
      onSession: (sessionId) => this.store.setSession(sessionId),
      onMessage: (message) => this.receive(message),
      onState: (state) => this.showState(state),
      onTurnDone: () => this.stopTyping(),
    });
    this.connection.start();
  }

  restore() {
    if (!this.store.messages.length) this.greet();
    this.renderAll();
  }

  // The kept conversation, drawn afresh, its latest reply in view.
  renderAll() {
    this.replyStart = null;
    for (const entry of this.store.messages) {
      if (entry.from === "user") this.replyStart = null;
      this.render(entry);
    }
    this.showCurrentReplies();
  }

  greet() {
    this.store.add({ from: "bot", text: this.settings.openingMessage, buttons: this.settings.suggestions });
  }

  restart({ note = null, announcement = "Started a new conversation." } = {}) {
    this.store.restart();
    this.log.replaceChildren();
    this.stopTyping();
    this.clearNoReply();
    if (this.connection) this.connection.newSession();
    if (note) this.store.add({ from: "bot", text: note });
    this.greet();
    this.renderAll();
    this.announce(announcement);
    this.input.focus();
  }

  // Sends `payload` to the assistant, showing `shown` as what the person said.
  say(shown, payload) {
    this.clearReplies();
    this.clearNoReply();
    this.lastSaid = { shown, payload, id: newMessageId() };
    this.answered = false; // no reply to it yet
    const entry = { from: "user", text: shown };
    this.store.add(entry);
    this.replyStart = null; // the next bot message starts the reply
    this.render(entry);
    this.connect();
    if (this.connection.state !== "offline") this.startTyping();
    this.noReplyTimer = setTimeout(() => this.noReply(), NO_REPLY_MS);
    this.connection.send(payload, { id: this.lastSaid.id });
  }

  // Deleting cannot be undone, so the Delete button asks first, in the conversation.
  confirmDelete() {
    for (const asked of this.log.querySelectorAll(".cc-confirm")) asked.remove();
    const yes = el("button", { type: "button", class: "cc-reply cc-confirm-yes" }, "Yes, delete it");
    const no = el("button", { type: "button", class: "cc-reply cc-confirm-no" }, "Keep it");
    const question = el("div", { class: "cc-notice cc-confirm", role: "group", "aria-label": "Delete this conversation?" },
      el("p", {}, "Delete this conversation from the assistant? This can't be undone."),
      el("div", { class: "cc-replies" }, yes, no));
    yes.addEventListener("click", () => {
      question.remove();
      this.say(DELETE_REQUEST, DELETE_REQUEST);
    });
    no.addEventListener("click", () => {
      question.remove();
      this.input.focus();
    });
    this.log.append(question);
    this.scrollToEnd();
    no.focus();
  }

  // Nothing came back in time: say so, with a button that sends the message again.
  noReply() {
    this.stopTyping();
    const again = el("button", { type: "button", class: "cc-reply cc-retry" }, "Try again");
    const notice = el("div", { class: "cc-notice cc-noreply", role: "status" },
      el("p", {}, "No reply has come from the assistant. It may be busy or offline."), again);
    again.addEventListener("click", () => {
      const said = this.lastSaid;
      notice.remove();
      if (!said) return;
      this.clearNoReply();
      this.startTyping();
      this.noReplyTimer = setTimeout(() => this.noReply(), NO_REPLY_MS);
      // The same message again: if its turn ran, the server sends its replies.
      this.connection.send(said.payload, { id: said.id, retry: true });
      this.input.focus();
    });
    this.log.append(notice);
    this.scrollToEnd();
  }

  clearNoReply() {
    clearTimeout(this.noReplyTimer);
    for (const notice of this.log.querySelectorAll(".cc-noreply")) notice.remove();
  }

  receive(message) {
    if (message && typeof message.replay_of === "string") {
      // Replies sent again after "Try again": shown only if the first ones never came.
      if (this.answered || !this.lastSaid || message.replay_of !== this.lastSaid.id) return;
    } else {
      this.answered = true;
    }
    this.clearNoReply();
    if (message && message.custom && message.custom.conversation_deleted === true) {
      // The server has deleted the conversation: so does the widget, keeping only
      // the server's confirmation.
      // The confirmation comes with it, or (from an older server) just before it.
      const last = this.store.messages[this.store.messages.length - 1];
      const before = last && last.from === "bot" && last.text ? last.text : null;
      const note = typeof message.text === "string" && message.text.trim() ? message.text : before;
      this.restart({ note, announcement: "Your conversation was deleted." });
      return;
    }
    const entry = botEntry(message);
    if (!entry) return;
    this.store.add(entry);
    this.render(entry);
    if (entry.buttons) {
      this.clearReplies();
      this.showReplies(entry.buttons);
    }
    if (!this.typing.hidden) {
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => this.stopTyping(), TYPING_QUIET_MS);
    }
  }

  // A verdict is shown once, as the card the server built (the text is its
  // fallback); other messages as text, the assistant's links labelled.
  render(entry) {
    const who = entry.from === "user" ? "You" : "Assistant";
    const bubble = el("div", { class: `cc-msg cc-msg--${entry.from}` }, visuallyHidden(`${who}: `));
    const card = entry.card ? renderCard(entry.card) : null;
    if (card) {
      bubble.append(card);
      bubble.classList.add("cc-msg--card");
    } else if (entry.text) {
      bubble.append(renderText(entry.text, { labelled: entry.from === "bot" }));
    }
    this.log.append(bubble);
    if (entry.from === "bot" && !this.replyStart) this.replyStart = bubble;
    this.scrollToReply();
  }

  clearReplies() {
    for (const group of this.log.querySelectorAll(".cc-replies")) group.remove();
  }

  // Quick replies stay until the person answers: those of the latest bot message
  // that has any, since the person last spoke.
  showCurrentReplies() {
    for (let i = this.store.messages.length - 1; i >= 0; i -= 1) {
      const entry = this.store.messages[i];
      if (entry.from === "user") return;
      if (entry.buttons && entry.buttons.length) {
        this.showReplies(entry.buttons);
        return;
      }
    }
  }

  showReplies(buttons) {
    const group = el("div", { class: "cc-replies", role: "group", "aria-label": "Suggested replies" });
    for (const button of buttons) {
      const node = el("button", { type: "button", class: "cc-reply" }, button.title);
      node.addEventListener("click", () => {
        this.say(button.title, button.payload);
        this.input.focus();
      });
      group.append(node);
    }
    this.log.append(group);
    this.scrollToReply();
  }

  scrollToEnd() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  // A reply taller than the log is shown from its start (a verdict's "✓ Eligible",
  // not its sources); a shorter one, and whatever follows it, from the end.
  scrollToReply() {
    const start = this.replyStart;
    if (!start || !start.isConnected) {
      this.scrollToEnd();
      return;
    }
    const top = start.getBoundingClientRect().top - this.log.getBoundingClientRect().top;
    this.log.scrollTop = Math.max(0, this.log.scrollTop + top - 8);
  }

  startTyping() {
    this.typing.hidden = false;
    clearTimeout(this.typingTimer);
    clearTimeout(this.typingLimit);
    this.typingLimit = setTimeout(() => this.stopTyping(), TYPING_LIMIT_MS);
  }

  stopTyping() {
    this.typing.hidden = true;
    clearTimeout(this.typingTimer);
    clearTimeout(this.typingLimit);
  }

  showState(state) {
    this.host.dataset.state = state;
    if (state === "offline") {
      this.wasOffline = true;
      clearTimeout(this.noReplyTimer); // the status line already says why
      this.stopTyping();
      this.announce(STATUS_TEXT.offline, { stay: true, warning: true });
    } else if ((state === "socket" || state === "rest") && this.wasOffline) {
      this.wasOffline = false;
      this.announce(STATUS_TEXT.back);
      if (this.connection.queue.length) this.startTyping(); // what waited goes now
    }
  }

  announce(text, { stay = false, warning = false } = {}) {
    clearTimeout(this.statusTimer);
    this.statusLine.textContent = text;
    this.statusLine.classList.toggle("cc-status--warning", warning);
    this.statusLine.classList.add("cc-status--shown");
    if (!stay) {
      this.statusTimer = setTimeout(() => {
        if (this.host.dataset.state === "offline") {
          this.announce(STATUS_TEXT.offline, { stay: true, warning: true }); // still true
          return;
        }
        this.statusLine.textContent = "";
        this.statusLine.classList.remove("cc-status--shown", "cc-status--warning");
      }, 4000);
    }
  }
}
