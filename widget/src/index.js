// Entry point of careers-chat.js. A page embeds the widget with
//   <script src=".../careers-chat.js" data-server-url="https://rasa.example" defer></script>
// and, optionally, `window.CareersChat = {...}` settings (see settings.js).

import { readSettings } from "./settings.js";
import { CareersChat } from "./widget.js";

const script = document.currentScript;

function start() {
  if (window.__careersChat) return; // the script was included twice
  const settings = readSettings(script ? script.dataset : {}, window.CareersChat);
  window.__careersChat = new CareersChat(settings).mount(document.body);
}

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", start);
} else {
  start();
}
