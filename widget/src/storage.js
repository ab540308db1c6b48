// The conversation kept in the browser tab (sessionStorage): the conversation's
// token (issued by the server, which alone can make one), the messages shown and
// whether the chat was open. It survives a reload and
// moving between pages of the same site; closing the tab ends it, so on a shared
// computer the next person does not see someone else's grades.

const MAX_MESSAGES = 200;

function backing() {
  try {
    const store = window.sessionStorage;
    const probe = "careers-chat:probe";
    store.setItem(probe, "1");
    store.removeItem(probe);
    return store;
  } catch {
    return null; // storage blocked: the conversation lasts as long as the page
  }
}

export class ConversationStore {
  constructor(serverUrl) {
    this.key = `careers-chat:${serverUrl}`;
    this.store = backing();
    const saved = this.load();
    this.sessionId = typeof saved.sessionId === "string" ? saved.sessionId : null;
    this.messages = saved.messages || [];
    this.open = Boolean(saved.open);
    this.save();
  }

  load() {
    if (!this.store) return {};
    try {
      const saved = JSON.parse(this.store.getItem(this.key) || "{}");
      const ok = saved && Array.isArray(saved.messages);
      return ok ? saved : {};
    } catch {
      return {};
    }
  }

  save() {
    if (!this.store) return;
    const { sessionId, open } = this;
    const messages = this.messages.slice(-MAX_MESSAGES);
    try {
      this.store.setItem(this.key, JSON.stringify({ sessionId, messages, open }));
    } catch {
      // full or blocked: keep going with what is on the screen
    }
  }

  add(entry) {
    this.messages.push(entry);
    this.save();
  }

  setOpen(open) {
    this.open = open;
    this.save();
  }

  setSession(sessionId) {
    this.sessionId = sessionId;
    this.save();
  }

  restart() {
    this.sessionId = null;
    this.messages = [];
    this.save();
  }
}
