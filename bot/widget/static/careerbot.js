/*
 * careerbot chat widget. Embed with one tag:
 *
 *   <script src="https://YOUR-BOT-HOST/widget/careerbot.js"
 *           data-server="https://YOUR-RASA-HOST"
 *           data-title="Career advisor"
 *           data-greeting="Hi! Ask me about becoming a mortgage servicing specialist."
 *           defer></script>
 *
 * Talks to Rasa's socket.io channel with session persistence. The server
 * issues the session id as "<conversation id>.<token>" in session_confirm; the
 * token proves this browser owns the conversation (bot/channels/socketio.py).
 * The id with its token and the transcript live in localStorage, and the id is
 * sent back in session_request, so a reload shows the conversation and carries
 * on the same session. Without a valid token the server starts a new session.
 * Every text is put into the page as text nodes: nothing the bot or the user
 * sends is ever parsed as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.__careerbotLoaded) return;
  window.__careerbotLoaded = true;

  var base = script.src.replace(/[^/]*(\?.*)?$/, "");
  var config = {
    server: (script.getAttribute("data-server") || "http://127.0.0.1:5005").replace(/\/+$/, ""),
    title: script.getAttribute("data-title") || "Career advisor",
    greeting: script.getAttribute("data-greeting") || "",
    launcher: script.getAttribute("data-launcher") || "Chat with us",
  };
  var STORAGE_KEY = "careerbot:v1:" + config.server;
  var MAX_LENGTH = 2000;
  var TYPING_TIMEOUT_MS = 20000;

  // --- State kept across reloads -------------------------------------------
  function loadState() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && typeof saved === "object" && Array.isArray(saved.messages)) return saved;
    } catch (e) { /* unreadable storage: start afresh */ }
    // sessionId: the server-issued "<conversation id>.<token>", a secret of this browser.
    return { sessionId: null, messages: [], open: false };
  }
  var state = loadState();
  function saveState() {
    try { window.localStorage.setItem(STORAGE_KEY, JSON.stringify(state)); } catch (e) { /* full or blocked */ }
  }

  // --- DOM helpers ------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function safeUrl(url) {
    return /^https?:\/\/[^\s<>"']+$/i.test(url) ? url : null;
  }

  function link(text, url) {
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: text });
  }

  // Inline markdown: **bold**, [title](https://...), bare https:// links.
  function appendInline(parent, text) {
    var pattern = /\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>"')]+)/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(text)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined) {
        parent.appendChild(el("strong", { text: match[1] }));
      } else if (match[2] !== undefined) {
        var url = safeUrl(match[3]);
        parent.appendChild(url ? link(match[2], url) : document.createTextNode(match[0]));
      } else {
        parent.appendChild(link(match[4], match[4]));
      }
      last = pattern.lastIndex;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // Block markdown: paragraphs, "- " bullet lists and "1. " numbered lists.
  function renderText(text) {
    var container = el("div", { class: "cb-text" });
    var list = null;
    var paragraph = null;
    String(text).split("\n").forEach(function (line) {
      var bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
      var numbered = /^\s*\d+[.)]\s+(.*)$/.exec(line);
      if (bullet || numbered) {
        var kind = bullet ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== kind) {
          list = el(kind);
          container.appendChild(list);
        }
        var item = el("li");
        appendInline(item, (bullet || numbered)[1]);
        list.appendChild(item);
        paragraph = null;
      } else if (line.trim() === "") {
        list = null;
        paragraph = null;
      } else {
        list = null;
        if (!paragraph) {
          paragraph = el("p");
          container.appendChild(paragraph);
        } else {
          paragraph.appendChild(el("br"));
        }
        appendInline(paragraph, line);
      }
    });
    return container;
  }

  // For tests and for pages that render bot text elsewhere.
  window.CareerbotWidget = { renderText: renderText };

  // --- The widget ---------------------------------------------------------------
  var root = el("div", { class: "cb-root" });
  var launcher = el("button", {
    type: "button", class: "cb-launcher", "aria-expanded": "false", "aria-controls": "cb-panel",
    text: config.launcher,
  });
  var closeButton = el("button", { type: "button", class: "cb-close", "aria-label": "Close chat", text: "×" });
  var title = el("h2", { id: "cb-title", class: "cb-title", text: config.title });
  var status = el("p", { class: "cb-status", role: "status", "aria-live": "polite" });
  var log = el("ol", { class: "cb-log", role: "log", "aria-live": "polite", "aria-labelledby": "cb-title" });
  var typing = el("p", { class: "cb-typing", hidden: "", text: "The assistant is typing…" });
  var input = el("input", {
    id: "cb-input", class: "cb-input", type: "text", autocomplete: "off", maxlength: String(MAX_LENGTH),
    placeholder: "Type your question",
  });
  var inputLabel = el("label", { for: "cb-input", class: "cb-visually-hidden", text: "Your message" });
  var sendButton = el("button", { type: "submit", class: "cb-send", text: "Send" });
  var form = el("form", { class: "cb-form" }, [inputLabel, input, sendButton]);
  var panel = el("section", {
    id: "cb-panel", class: "cb-panel", role: "dialog", "aria-labelledby": "cb-title", hidden: "",
  }, [el("header", { class: "cb-header" }, [title, closeButton]), status, log, typing, form]);
  root.appendChild(panel);
  root.appendChild(launcher);

  function scrollToEnd() { log.scrollTop = log.scrollHeight; }

  function renderMessage(message) {
    var item = el("li", { class: "cb-message cb-from-" + (message.from === "user" ? "user" : "bot") });
    item.appendChild(el("span", { class: "cb-visually-hidden", text: message.from === "user" ? "You: " : "Assistant: " }));
    item.appendChild(renderText(message.text || ""));
    if (message.buttons && message.buttons.length) {
      var choices = el("div", { class: "cb-choices", role: "group", "aria-label": "Suggested questions" });
      message.buttons.forEach(function (button) {
        var choice = el("button", { type: "button", class: "cb-choice", text: button.title });
        choice.addEventListener("click", function () {
          send(button.payload, button.title);
          input.focus();
        });
        choices.appendChild(choice);
      });
      item.appendChild(choices);
    }
    log.appendChild(item);
    scrollToEnd();
  }

  function addMessage(message) {
    state.messages.push(message);
    saveState();
    renderMessage(message);
  }

  function setTyping(on) {
    if (on) typing.removeAttribute("hidden"); else typing.setAttribute("hidden", "");
    clearTimeout(setTyping.timer);
    if (on) setTyping.timer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS);
  }

  function setOpen(open) {
    state.open = open;
    saveState();
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      panel.removeAttribute("hidden");
      launcher.setAttribute("hidden", "");
      if (!state.messages.length && config.greeting) addMessage({ from: "bot", text: config.greeting });
      scrollToEnd();
      input.focus();
    } else {
      panel.setAttribute("hidden", "");
      launcher.removeAttribute("hidden");
      launcher.focus();
    }
  }

  launcher.addEventListener("click", function () { setOpen(true); });
  closeButton.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") setOpen(false);
  });

  // --- Talking to Rasa -----------------------------------------------------------
  var socket = null;
  var connected = false;
  var pending = []; // messages typed while the server was unreachable

  function emitMessage(payload) {
    socket.emit("user_uttered", { message: payload, session_id: state.sessionId });
    setTyping(true);
  }

  // At most MAX_LENGTH characters, cut between characters: slicing UTF-16 code
  // units could leave half an emoji, a lone surrogate the server refuses.
  function clip(text) {
    return Array.from(text).slice(0, MAX_LENGTH).join("");
  }

  function send(payload, shown) {
    var text = String(payload || "").trim();
    if (!text) return;
    addMessage({ from: "user", text: shown || text });
    if (connected && state.sessionId) emitMessage(clip(text));
    else pending.push(clip(text));
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });

  function showStatus(text) {
    status.textContent = text;
    root.classList.toggle("cb-offline", Boolean(text));
  }

  function onBotMessage(data) {
    setTyping(false);
    if (!data || typeof data !== "object") return;
    // Rasa's socket.io channel sends buttons as quick_replies; other
    // channels and custom payloads use buttons: accept both.
    var buttons = (data.quick_replies || data.buttons || []).filter(function (b) {
      return b && typeof b.title === "string" && typeof b.payload === "string";
    }).map(function (b) { return { title: b.title, payload: b.payload }; });
    var text = typeof data.text === "string" ? data.text : "";
    if (!text && data.attachment && data.attachment.payload && safeUrl(data.attachment.payload.src || "")) {
      text = data.attachment.payload.src;
    }
    if (text || buttons.length) addMessage({ from: "bot", text: text, buttons: buttons });
  }

  function connect() {
    socket = window.io(config.server, { path: "/socket.io", reconnectionDelayMax: 3000 });
    socket.on("connect", function () {
      connected = true;
      showStatus("");
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      var id = typeof sessionId === "string" ? sessionId : sessionId && sessionId.session_id;
      if (id) { state.sessionId = id; saveState(); }
      var queued = pending;
      pending = [];
      queued.forEach(emitMessage);
    });
    socket.on("bot_uttered", onBotMessage);
    // The server refused an event (see bot/channels/socketio.py): stop waiting for a reply.
    socket.on("error", function (problem) {
      setTyping(false);
      if (problem && problem.event === "user_uttered") {
        addMessage({ from: "bot", text: "Sorry, that message could not be answered. Please try again." });
      }
    });
    function offline() {
      connected = false;
      setTyping(false);
      showStatus("Can't reach the assistant. Retrying…");
    }
    socket.on("disconnect", offline);
    socket.on("connect_error", offline);
  }

  function loadSocketIo(then) {
    if (window.io) return then();
    var tag = document.createElement("script");
    tag.src = base + "vendor/socket.io.min.js";
    tag.onload = then;
    tag.onerror = function () { showStatus("Can't load the chat. Please reload the page."); };
    document.head.appendChild(tag);
  }

  function start() {
    var css = el("link", { rel: "stylesheet", href: base + "careerbot.css" });
    document.head.appendChild(css);
    document.body.appendChild(root);
    state.messages.forEach(renderMessage);
    if (state.open) setOpen(true);
    loadSocketIo(connect);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
