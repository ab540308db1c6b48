// The link to Rasa: socket.io (Rasa's socketio channel with session persistence),
// or REST where socket.io cannot get through. Messages typed while neither works
// wait in a queue and go as soon as one does.
//
// The conversation is named by a token the server issues (channels/ownership.py):
// over socket.io, `session_confirm` brings it; over REST, POST .../conversations.
// The widget keeps it (storage.js) and shows it to nobody; a token the server no
// longer accepts (expired) is replaced by a new one.
//
// Each message carries an id of its own (`message_id`). Sent again, by "Try again" or
// after a REST call lost its connection, it says `retry: true`: the server then gives
// the replies of a turn that already ran rather than running it twice (a button
// pressed twice would answer the next question).
//
// States: "connecting" (not yet known), "socket", "rest", "offline".

import { io } from "socket.io-client";

const PROBE_EVERY_MS = 3000;

// A message's id: 16 random bytes in hex (crypto.getRandomValues works on http pages too).
export function newMessageId() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return "m" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export class Connection {
  constructor({ serverUrl, transport, sessionId, onSession, onMessage, onState, onTurnDone }) {
    this.serverUrl = serverUrl;
    this.transport = transport;
    this.sessionId = sessionId;
    this.onSession = onSession;
    this.onMessage = onMessage;
    this.onState = onState;
    this.onTurnDone = onTurnDone;
    this.state = "connecting";
    this.queue = [];
    this.socket = null;
    this.probeTimer = null;
    this.probing = false;
    this.sending = false;
    this.everConnected = false;
    this.hinted = false;
  }

  start() {
    if (this.transport === "rest") {
      this.probe();
      return;
    }
    const socket = io(this.serverUrl, {
      reconnectionDelay: 1000,
      reconnectionDelayMax: 5000,
      timeout: 8000,
    });
    this.socket = socket;
    socket.on("connect", () => this.requestSession());
    socket.on("session_confirm", (id) => {
      if (typeof id === "string" && id && id !== this.sessionId) {
        this.sessionId = id;
        this.onSession(id);
      }
      this.setState("socket");
    });
    socket.on("bot_uttered", (message) => this.onMessage(message));
    socket.on("turn_done", () => this.onTurnDone()); // all of a turn's replies have come
    socket.on("connect_error", () => this.socketDown());
    socket.on("disconnect", (reason) => {
      if (reason === "io server disconnect") socket.connect(); // the server closed it: try again
      this.socketDown();
    });
  }

  socketDown() {
    if (this.state === "socket") this.setState("connecting");
    this.probe();
  }

  setState(state) {
    const changed = state !== this.state;
    if (state === "offline" && !this.everConnected && !this.hinted) {
      this.hinted = true;
      console.warn(`careers-chat: cannot reach ${this.serverUrl}. Is it running, and is this ` +
                   `page's origin (${window.location.origin}) in its ALLOWED_ORIGINS?`);
    }
    if (state === "socket" || state === "rest") this.everConnected = true;
    this.state = state;
    clearTimeout(this.probeTimer);
    if (state === "offline" || (state === "rest" && this.transport === "rest" && this.queue.length)) {
      this.probeTimer = setTimeout(() => this.probe(), PROBE_EVERY_MS);
    }
    if (changed) this.onState(state);
    if (state === "socket" || state === "rest") this.flush();
  }

  // Is Rasa answering over plain HTTP? (When socket.io is blocked but REST is not.)
  async probe() {
    if (this.probing || this.state === "socket") return;
    this.probing = true;
    try {
      const response = await fetch(`${this.serverUrl}/`, { cache: "no-store" });
      if (this.state !== "socket") this.setState(response.ok ? "rest" : "offline");
    } catch {
      if (this.state !== "socket") this.setState("offline");
    } finally {
      this.probing = false;
    }
  }

  // Sends `text` as the message `id`; `retry` when it was sent before.
  send(text, { id = newMessageId(), retry = false } = {}) {
    this.queue.push({ text, id, retry });
    this.flush();
  }

  requestSession() {
    const request = this.sessionId ? { session_id: this.sessionId } : {};
    this.socket.emit("session_request", request);
  }

  // A new conversation: the server gives it a token.
  newSession() {
    this.sessionId = null;
    this.queue = [];
    if (this.socket && this.socket.connected) {
      if (this.state === "socket") this.setState("connecting"); // until session_confirm
      this.requestSession();
    }
  }

  async flush() {
    if (this.state === "socket") {
      while (this.queue.length) {
        const { text, id, retry } = this.queue.shift();
        this.socket.emit("user_uttered", { message: text, session_id: this.sessionId, message_id: id, retry });
      }
    } else if (this.state === "rest" && !this.sending) {
      this.sending = true;
      try {
        while (this.queue.length && this.state === "rest") {
          await this.postRest(this.queue[0]);
          this.queue.shift();
        }
      } catch {
        // Lost on the way: it may have been handled, so it goes again as a retry.
        if (this.queue.length) this.queue[0].retry = true;
        this.setState("offline");
      } finally {
        this.sending = false;
      }
    }
  }

  async newRestSession() {
    const response = await fetch(`${this.serverUrl}/webhooks/rest/conversations`, { method: "POST" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || typeof body.token !== "string") {
      throw new Error(body.error || `the server answered ${response.status}`);
    }
    this.sessionId = body.token;
    this.onSession(body.token);
  }

  async postRest(entry, retried = false) {
    if (!this.sessionId) await this.newRestSession();
    const sessionId = this.sessionId;
    const response = await fetch(`${this.serverUrl}/webhooks/rest/webhook`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: sessionId, message: entry.text, message_id: entry.id, retry: entry.retry }),
    });
    if (response.status === 401 && !retried) {
      // The token has expired (or the server's secret changed): a new conversation.
      this.sessionId = null;
      await this.postRest({ ...entry, retry: false }, true);
      return;
    }
    // A network failure throws (and the message waits); an error status would only
    // come back again, so that message is dropped, with the server's reason shown.
    const replies = await response.json().catch(() => []);
    if (sessionId !== this.sessionId) return; // restarted meanwhile
    if (!response.ok) {
      console.warn(`careers-chat: the server answered ${response.status}`);
      if (replies && typeof replies.error === "string") this.onMessage({ text: replies.error });
    }
    for (const message of Array.isArray(replies) ? replies : []) this.onMessage(message);
    this.onTurnDone();
  }
}
