/*
 * careerbot chat widget. Embed with one tag:
 *
 *   <script src="https://YOUR-BOT-HOST/widget/careerbot.js"
 *           data-server="https://YOUR-RASA-HOST"
 *           data-title="Career advisor"
 *           data-greeting="Hi! Ask me about becoming a mortgage servicing specialist."
 *           defer></script>
 *
 * Every data- attribute it reads is in STRINGS, THEME and readConfig below;
 * docs/widget.md lists them, with the JavaScript API
 * (window.Careerbot: open, close, send, reset, destroy).
 *
 * Sessions. Rasa's socket.io channel with session persistence issues the
 * session id as "<conversation id>.<token>" in session_confirm; the token proves
 * this browser owns the conversation (bot/channels/socketio.py). The id and the
 * transcript live in localStorage, so a reload shows the conversation and
 * carries on the same session.
 *
 * Never lose a message. A message is written to the transcript in localStorage
 * as "queued" before anything is sent, and stays queued until the server
 * acknowledges it; it goes out with its own id (message_id), which the server
 * deduplicates, so sending it again after a lost connection or a reload never
 * makes a second turn.
 *
 * Many tabs, one conversation. localStorage holds the one transcript; every
 * write merges with what is stored (messages by id, a queued message loses to
 * its acknowledged copy), and the storage event tells the other tabs. Only one
 * tab talks to the server: the holder of a Web Lock. It sends every tab's
 * queued messages and writes the replies, and tells the other tabs through a
 * BroadcastChannel whether it is connected and whether the bot is typing.
 * When that tab closes, the next one takes the lock and connects.
 *
 * Isolation. The widget lives in a shadow root, so the page's CSS does not
 * reach it and its ids cannot clash with the page's. It keeps its own copy of
 * the vendored socket.io client and leaves the page's window.io alone.
 *
 * Every text is put into the page as text nodes: nothing the bot or the user
 * sends is ever parsed as HTML.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || window.Careerbot) return;

  var base = script.src.replace(/[^/]*(\?.*)?$/, "");

  function data(name) {
    var value = script.getAttribute("data-" + name);
    return value === null || value.trim() === "" ? null : value;
  }

  // Every string the visitor sees or hears: key -> [data- attribute, default].
  // {count} is replaced by a number.
  var STRINGS = {
    title: ["title", "Career advisor"],
    greeting: ["greeting", ""],
    launcher: ["launcher", "Chat with us"],
    placeholder: ["placeholder", "Type your question"],
    inputLabel: ["input-label", "Your message"],
    send: ["send-label", "Send"],
    close: ["close-label", "Close chat"],
    startOver: ["start-over-label", "Start over"],
    typing: ["typing-text", "The assistant is typing…"],
    offline: ["offline-text", "Can't reach the assistant. Retrying…"],
    unavailable: ["unavailable-text", "Sorry, the chat is not available on this page."],
    loadFailed: ["load-failed-text", "Can't load the chat. Please reload the page."],
    notSent: ["not-sent-text", "Not sent yet"],
    failed: ["failed-text", "Sorry, that message could not be answered. Please try again."],
    charactersLeft: ["characters-left-text", "{count} characters left"],
    tooLong: ["too-long-text", "{count} characters too many: shorten your message to send it"],
    you: ["you-label", "You:"],
    assistant: ["assistant-label", "Assistant:"],
    suggestions: ["suggestions-label", "Suggested questions"],
    newMessage: ["new-message-text", "New message"],
  };
  // data- attribute -> CSS custom property of the widget (careerbot.css has the defaults).
  var THEME = {
    "color-primary": "--cb-primary",
    "color-on-primary": "--cb-on-primary",
    "color-background": "--cb-background",
    "color-text": "--cb-text",
    "color-bot-bubble": "--cb-bot-bubble",
    "color-focus": "--cb-focus",
    "font": "--cb-font",
    "offset": "--cb-offset",
    "z-index": "--cb-z-index",
  };

  var text = {};
  Object.keys(STRINGS).forEach(function (key) {
    var value = data(STRINGS[key][0]);
    text[key] = value === null ? STRINGS[key][1] : value;
  });
  function fill(template, count) { return template.replace("{count}", String(count)); }

  function parseContext(raw) {
    if (raw === null) return null;
    try {
      var parsed = JSON.parse(raw);
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed;
    } catch (e) { /* not JSON: the plain string is the context */ }
    return raw;
  }

  var config = {
    server: (data("server") || "http://127.0.0.1:5005").replace(/\/+$/, ""),
    transports: (data("transports") || "polling,websocket").split(",")
      .map(function (t) { return t.trim(); }).filter(Boolean),
    position: data("position") === "left" ? "left" : "right",
    // "auto" follows the visitor's light or dark setting; "light" or "dark" fixes it.
    colorScheme: ["light", "dark"].indexOf(data("color-scheme")) >= 0 ? data("color-scheme") : "auto",
    context: parseContext(data("context")),
  };
  var STORAGE_KEY = "careerbot:v1:" + config.server;
  var LOCK_NAME = STORAGE_KEY + ":connection";
  // A safety net: the server's ack normally ends the typing indicator.
  var TYPING_TIMEOUT_MS = 30000;
  // The counter appears from this share of the server's length limit.
  var COUNTER_FROM = 0.8;

  function newId() {
    var bytes = new Uint8Array(12);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- The shared transcript -----------------------------------------------------
  // state: { sessionId, sessionAt, epoch, messages: [{id, from, text, payload?, buttons, t, status?, context?,
  //   replyTo?}], open }
  // status of a user message: "queued" until the server acknowledges it, then "sent" or "failed".
  // replyTo of a bot message: the id of the user message it answered, when the widget knows it.
  // epoch: when the conversation was started over; a newer epoch replaces an older one whole.
  function emptyState(epoch) {
    return { sessionId: null, sessionAt: 0, epoch: epoch || 0, messages: [], open: false };
  }

  function normalise(saved) {
    var messages = saved.messages.filter(function (m) { return m && typeof m === "object"; }).map(function (m, i) {
      return {
        // Transcripts saved before messages had ids: number them in their order.
        id: typeof m.id === "string" ? m.id : "saved-" + i,
        from: m.from === "user" ? "user" : "bot",
        text: typeof m.text === "string" ? m.text : "",
        payload: typeof m.payload === "string" ? m.payload : undefined,
        buttons: Array.isArray(m.buttons) ? m.buttons : [],
        t: typeof m.t === "number" ? m.t : i,
        status: m.status === "queued" || m.status === "failed" ? m.status : undefined,
        context: m.context === undefined ? null : m.context,
        replyTo: typeof m.replyTo === "string" ? m.replyTo : undefined,
      };
    });
    return {
      sessionId: typeof saved.sessionId === "string" ? saved.sessionId : null,
      sessionAt: typeof saved.sessionAt === "number" ? saved.sessionAt : 0,
      epoch: typeof saved.epoch === "number" ? saved.epoch : 0,
      messages: messages,
      open: Boolean(saved.open),
    };
  }

  function readStored() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
      if (saved && typeof saved === "object" && Array.isArray(saved.messages)) return normalise(saved);
    } catch (e) { /* unreadable storage: nothing stored */ }
    return null;
  }

  function rank(message) { return message.status === "queued" ? 0 : 1; }

  // The union of two views of the transcript. Commutative, so tabs that merge
  // each other's writes agree; `open` is each tab's own.
  function merge(mine, stored) {
    if (!stored) return mine;
    if (mine.epoch !== stored.epoch) {
      var newer = mine.epoch > stored.epoch ? mine : stored;
      return Object.assign({}, newer, { open: mine.open });
    }
    var byId = {};
    mine.messages.concat(stored.messages).forEach(function (m) {
      var seen = byId[m.id];
      if (!seen || rank(m) > rank(seen)) byId[m.id] = m;
    });
    var messages = Object.keys(byId).map(function (id) { return byId[id]; }).sort(function (a, b) {
      return a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    });
    var session = mine.sessionAt > stored.sessionAt ||
      (mine.sessionAt === stored.sessionAt && String(mine.sessionId) >= String(stored.sessionId)) ? mine : stored;
    return { sessionId: session.sessionId, sessionAt: session.sessionAt, epoch: mine.epoch, messages: messages,
             open: mine.open };
  }

  function shared(s) { return JSON.stringify([s.sessionId, s.sessionAt, s.epoch, s.messages]); }

  var state = readStored() || emptyState();

  function write() {
    try { window.localStorage.setItem(STORAGE_KEY, JSON.stringify(state)); } catch (e) { /* full or blocked */ }
  }

  // Every change: merge with what the other tabs stored, change, store, show.
  function commit(change) {
    state = merge(state, readStored());
    if (change) {
      var replaced = change(state);
      if (replaced) state = replaced;
    }
    write();
    render();
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

  // A MediaQueryList's change event (addListener before Safari 14).
  function listen(query, handler) {
    if (query.addEventListener) query.addEventListener("change", handler);
    else query.addListener(handler);
  }

  function unlisten(query, handler) {
    if (query.removeEventListener) query.removeEventListener("change", handler);
    else query.removeListener(handler);
  }

  function safeUrl(url) {
    return /^https?:\/\/[^\s<>"']+$/i.test(url) ? url : null;
  }

  function link(label, url) {
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: label });
  }

  // Inline markdown: **bold**, [title](https://...), bare https:// links.
  function appendInline(parent, line) {
    var pattern = /\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>"')]+)/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(line)) !== null) {
      if (match.index > last) parent.appendChild(document.createTextNode(line.slice(last, match.index)));
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
    if (last < line.length) parent.appendChild(document.createTextNode(line.slice(last)));
  }

  // Block markdown: paragraphs, "- " bullet lists and "1. " numbered lists.
  function renderText(source) {
    var container = el("div", { class: "cb-text" });
    var list = null;
    var paragraph = null;
    String(source).split("\n").forEach(function (line) {
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

  // --- The widget, in its own shadow root -------------------------------------------
  var host = document.createElement("careerbot-chat");
  Object.keys(THEME).forEach(function (name) {
    var value = data(name);
    if (value !== null) host.style.setProperty(THEME[name], value);
  });
  if (config.position === "left") {
    host.style.setProperty("--cb-left", "var(--cb-offset, 16px)");
    host.style.setProperty("--cb-right", "auto");
  }
  var shadow = host.attachShadow({ mode: "open" });
  var stylesheet = el("link", { rel: "stylesheet", href: base + "careerbot.css" });
  // Hidden until the stylesheet is in: no unstyled flash, and scrolling measures the real layout.
  var root = el("div", { class: "cb-root", style: "display: none" });

  var launcher = el("button", {
    type: "button", class: "cb-launcher", "aria-expanded": "false", "aria-controls": "cb-panel",
    text: text.launcher,
  });
  var startOverButton = el("button", { type: "button", class: "cb-start-over", text: text.startOver });
  var closeButton = el("button", { type: "button", class: "cb-close", "aria-label": text.close, text: "×" });
  var title = el("h2", { id: "cb-title", class: "cb-title", text: text.title });
  var status = el("p", { class: "cb-status", role: "status", "aria-live": "polite" });
  // A list inside the log: a list element given role="log" is no list any more, and its items no list items.
  // Focusable so that a keyboard scrolls a long answer.
  var list = el("ol", { class: "cb-list" });
  var log = el("div", {
    class: "cb-log", role: "log", "aria-live": "polite", "aria-labelledby": "cb-title", tabindex: "0",
  }, [list]);
  // Shown when a message arrives below the view of a visitor who scrolled up to read.
  var newMessage = el("button", { type: "button", class: "cb-new", hidden: "" }, [
    el("span", { text: text.newMessage }), el("span", { class: "cb-new-arrow", "aria-hidden": "true", text: "↓" }),
  ]);
  // Always in the page, filled only while the bot types, so screen readers announce it.
  var typing = el("p", { class: "cb-typing", role: "status", "aria-live": "polite" });
  var input = el("input", {
    id: "cb-input", class: "cb-input", type: "text", autocomplete: "off", placeholder: text.placeholder,
    "aria-describedby": "cb-counter",
  });
  var inputLabel = el("label", { for: "cb-input", class: "cb-visually-hidden", text: text.inputLabel });
  var sendButton = el("button", { type: "submit", class: "cb-send", text: text.send });
  var counter = el("p", { id: "cb-counter", class: "cb-counter", "aria-live": "polite" });
  var form = el("form", { class: "cb-form" }, [inputLabel, input, sendButton]);
  // The header is a div, not a <header>: that would be a second banner landmark beside the page's own.
  var panel = el("section", {
    id: "cb-panel", class: "cb-panel", role: "dialog", "aria-labelledby": "cb-title", hidden: "",
  }, [el("div", { class: "cb-header" }, [title, startOverButton, closeButton]), status,
      el("div", { class: "cb-body" }, [log, newMessage]), typing, counter, form]);
  root.appendChild(panel);
  root.appendChild(launcher);
  shadow.appendChild(stylesheet);
  shadow.appendChild(root);

  // --- Colours that stay readable --------------------------------------------------------
  // careerbot.css resolves the site's colours (--cb-c-*); here each text colour is checked against
  // the background it is shown on, and made darker or lighter, only as far as needed, where it
  // would read below WCAG AA. A dark theme that keeps white text on a light primary stays legible.
  var AA = 4.5;
  var WHITE = [255, 255, 255, 1];
  var darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  var probe = el("span", { hidden: "" });
  root.appendChild(probe);
  var canvas = null;

  // [r, g, b, a] of a CSS colour expression, or null when it is transparent or not a colour.
  function colour(expression) {
    probe.style.color = "";
    probe.style.color = expression;
    var value = window.getComputedStyle(probe).color;
    var match = /^rgba?\(\s*([\d.]+)[,\s]+([\d.]+)[,\s]+([\d.]+)\s*(?:[,/]\s*([\d.]+)(%?))?\s*\)$/.exec(value);
    var rgba = null;
    if (match) {
      var alpha = match[4] === undefined ? 1 : Number(match[4]) / (match[5] ? 100 : 1);
      rgba = [Number(match[1]), Number(match[2]), Number(match[3]), alpha];
    } else {
      // Another colour space (lab(), oklch(), color()): the browser paints it in sRGB.
      canvas = canvas || document.createElement("canvas");
      var paint = canvas.getContext("2d");
      if (!paint) return null;
      paint.clearRect(0, 0, 1, 1);
      paint.fillStyle = value;
      paint.fillRect(0, 0, 1, 1);
      var pixel = paint.getImageData(0, 0, 1, 1).data;
      rgba = [pixel[0], pixel[1], pixel[2], pixel[3] / 255];
    }
    return rgba[3] > 0 ? rgba : null;
  }

  // `top` painted over the opaque `bottom`.
  function over(top, bottom) {
    if (!top || !bottom) return top && top[3] >= 1 ? top : null;
    var a = top[3];
    return [0, 1, 2].map(function (i) { return top[i] * a + bottom[i] * (1 - a); }).concat([1]);
  }

  function luminance(rgb) {
    var linear = rgb.slice(0, 3).map(function (value) {
      value /= 255;
      return value <= 0.04045 ? value / 12.92 : Math.pow((value + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
  }

  function contrast(a, b) {
    var la = luminance(a);
    var lb = luminance(b);
    return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
  }

  // `ink` if it reads at AA on `background`, else the nearest mix of it with black or white that does.
  function readable(ink, background) {
    var painted = over(ink, background);
    if (contrast(painted, background) >= AA) return painted;
    for (var step = 1; step <= 20; step++) {
      var candidates = [[0, 0, 0], [255, 255, 255]].map(function (target) {
        return [0, 1, 2].map(function (i) { return Math.round(painted[i] + (target[i] - painted[i]) * step / 20); });
      }).filter(function (candidate) { return contrast(candidate, background) >= AA; });
      if (candidates.length) return candidates[0];
    }
    return luminance(background) > 0.18 ? [0, 0, 0] : [255, 255, 255];
  }

  function applyTheme() {
    var dark = config.colorScheme === "dark" ||
      (config.colorScheme === "auto" && Boolean(darkQuery && darkQuery.matches));
    root.classList.toggle("cb-dark", dark);
    var primary = over(colour("var(--cb-c-primary)"), WHITE);
    var background = over(colour("var(--cb-c-background)"), WHITE);
    var bubble = over(colour("var(--cb-c-bot-bubble)"), background);
    // ink -> [text colour, the background it is shown on]
    var inks = {
      "--cb-ink-on-primary": ["var(--cb-c-on-primary)", primary],
      "--cb-ink-accent": ["var(--cb-c-primary)", background],
      "--cb-ink-link": ["var(--cb-c-primary)", bubble],
      "--cb-ink-text": ["var(--cb-c-text)", background],
      "--cb-ink-bubble-text": ["var(--cb-c-text)", bubble],
      "--cb-ink-muted": ["var(--cb-d-muted)", background],
      "--cb-ink-error": ["var(--cb-d-error)", background],
    };
    // The focus ring is two rings: the focus colour, and black or white beside it, whichever
    // differs from it more. One of the two then stands out from any background it is drawn on
    // (WCAG technique C40), the header's primary and the panel's background alike.
    var focus = over(colour("var(--cb-c-focus)"), background);
    if (focus) {
      root.style.setProperty("--cb-focus-halo", contrast(focus, [0, 0, 0]) >= contrast(focus, WHITE) ? "#000" : "#fff");
    }
    Object.keys(inks).forEach(function (name) {
      root.style.removeProperty(name);
      var ink = colour(inks[name][0]);
      var on = inks[name][1];
      if (!ink || !on) return;
      var rgb = readable(ink, on);
      root.style.setProperty(name, "rgb(" + rgb.slice(0, 3).map(Math.round).join(", ") + ")");
    });
  }

  // --- Showing the transcript --------------------------------------------------------
  var nodes = {}; // message id -> its <li>
  var shown = false; // the stylesheet is in and the widget visible
  var pinned = true; // the visitor has not scrolled up from the latest message

  var lastTop = 0;
  var unseen = null; // the first message that arrived below the view of a visitor who scrolled up

  // Where `node` starts, in the log's scroll coordinates.
  function topOf(node) {
    return node.getBoundingClientRect().top - log.getBoundingClientRect().top + log.scrollTop;
  }

  function scrollTo(top) {
    log.scrollTop = top;
    lastTop = log.scrollTop;
  }

  function hideNewMessage() {
    unseen = null;
    newMessage.setAttribute("hidden", "");
  }

  function scrollToEnd() {
    scrollTo(log.scrollHeight);
    pinned = true;
    hideNewMessage();
  }

  // Shows `node` from its start, or the end of the log if everything from `node` on fits in the view.
  // Never moves the view back up.
  function scrollToStartOf(node) {
    var end = log.scrollHeight - log.clientHeight;
    var top = Math.max(log.scrollTop, Math.min(end, topOf(node) - 8));
    scrollTo(top);
    pinned = top >= end - 1;
  }

  // Only the visitor scrolls up; the log shrinking (the typing line appearing) is not scrolling away.
  log.addEventListener("scroll", function () {
    if (log.scrollHeight - log.scrollTop - log.clientHeight < 24) pinned = true;
    else if (log.scrollTop < lastTop) pinned = false;
    lastTop = log.scrollTop;
    if (unseen && (pinned || topOf(unseen) < log.scrollTop + log.clientHeight - 24)) hideNewMessage();
  });

  newMessage.addEventListener("click", function () {
    var node = unseen;
    hideNewMessage();
    if (node) scrollToStartOf(node);
    else scrollToEnd();
    // The button is gone: the keyboard goes on from the log, which it can scroll.
    log.focus();
  });

  function messageNode(message) {
    var mine = message.from === "user";
    var item = el("li", { class: "cb-message cb-from-" + (mine ? "user" : "bot") });
    item.appendChild(el("span", { class: "cb-visually-hidden", text: (mine ? text.you : text.assistant) + " " }));
    item.appendChild(renderText(message.text || ""));
    if (mine) item.appendChild(el("span", { class: "cb-not-sent", text: text.notSent }));
    if (message.buttons && message.buttons.length) {
      var choices = el("div", { class: "cb-choices", role: "group", "aria-label": text.suggestions });
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
    return item;
  }

  var reading = null; // the answer shown from its start, whose later bubbles need no "new message" cue

  // Brings the list in line with the transcript, keeping the nodes that stay (and their focus).
  // New messages come into view, an answer taller than the view from its start; a visitor who
  // scrolled up to read stays where they are and gets the "new message" button instead.
  function render() {
    if (!shown) return;
    var keep = {};
    var previous = null;
    var firstAdded = null;
    var answer = null; // the first message after the visitor's latest one
    var addedInAnswer = false;
    state.messages.forEach(function (message) {
      keep[message.id] = true;
      var node = nodes[message.id];
      var isNew = !node;
      if (isNew) node = nodes[message.id] = messageNode(message);
      if (isNew && !firstAdded) firstAdded = node;
      if (message.from === "user") {
        answer = null;
        addedInAnswer = false;
      } else {
        if (!answer) answer = node;
        if (isNew && answer) addedInAnswer = true;
      }
      node.classList.toggle("cb-queued", message.status === "queued");
      node.classList.toggle("cb-failed", message.status === "failed");
      var expected = previous ? previous.nextSibling : list.firstChild;
      if (node !== expected) list.insertBefore(node, expected);
      previous = node;
    });
    Object.keys(nodes).forEach(function (id) {
      if (!keep[id]) {
        list.removeChild(nodes[id]);
        delete nodes[id];
      }
    });
    if (!firstAdded) return;
    if (!answer || answer !== reading) reading = null;
    // Closed: opening shows the end.
    if (!log.clientHeight) {
      if (pinned) scrollToEnd();
      return;
    }
    // Only what arrived within the latest answer (not a question and its answer from another tab).
    var withinAnswer = addedInAnswer && firstAdded.compareDocumentPosition(answer) !== Node.DOCUMENT_POSITION_FOLLOWING;
    if (pinned && withinAnswer) {
      hideNewMessage();
      scrollToStartOf(answer);
      if (!pinned) reading = answer;
    } else if (pinned) {
      scrollToEnd();
    } else if (!unseen && !(reading && addedInAnswer) &&
               topOf(firstAdded) > log.scrollTop + log.clientHeight - 24) {
      unseen = firstAdded;
      newMessage.removeAttribute("hidden");
    }
  }

  // --- Connection state, shared by the tab that connects -------------------------------
  // connection: "connecting", "online", "offline", "unavailable" (origin refused) or "broken" (script failed).
  var connection = "connecting";
  var busy = false;
  var maxLength = null;

  function showConnection(value, typingNow) {
    connection = value;
    busy = Boolean(typingNow) && value === "online";
    var message = { offline: text.offline, unavailable: text.unavailable, broken: text.loadFailed }[value] || "";
    if (status.textContent !== message) status.textContent = message;
    root.classList.toggle("cb-online", value === "online");
    root.classList.toggle("cb-trouble", Boolean(message));
    var closed = value === "unavailable" || value === "broken";
    input.disabled = closed;
    sendButton.disabled = closed;
    var typingText = busy ? text.typing : "";
    if (typing.textContent !== typingText) {
      typing.textContent = typingText;
      if (pinned && shown) scrollToEnd();
    }
  }

  var channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(STORAGE_KEY) : null;
  var leader = false;

  function announce() {
    showConnection(connection, busy);
    if (channel && leader) channel.postMessage({ type: "connection", connection: connection, busy: busy });
  }

  function setConnection(value) {
    connection = value;
    if (value !== "online") busy = false;
    announce();
  }

  var typingTimer = null;
  function setBusy(on) {
    busy = on;
    clearTimeout(typingTimer);
    if (on) typingTimer = setTimeout(function () { setBusy(false); }, TYPING_TIMEOUT_MS);
    announce();
  }

  if (channel) {
    channel.onmessage = function (event) {
      var message = event.data || {};
      if (message.type === "connection" && !leader) showConnection(message.connection, message.busy);
      else if (message.type === "hello" && leader) announce();
    };
  }

  var warned = false;
  function checkOrigin() {
    return window.fetch(config.server + "/webhooks/socketio/config", { cache: "no-store", credentials: "omit" })
      .then(function (answer) { return answer.ok ? answer.json() : Promise.reject(new Error(answer.status)); })
      .then(function (answer) {
        if (typeof answer.max_message_length === "number") {
          maxLength = answer.max_message_length;
          updateCounter();
        }
        if (answer.origin_allowed === false) {
          if (warned) return false;
          warned = true;
          console.error("careerbot: the chat server " + config.server + " refuses this page's origin, " +
                        window.location.origin + ". Add it to CAREERBOT_CORS_ORIGINS on the Rasa server, " +
                        "for example CAREERBOT_CORS_ORIGINS=" + window.location.origin);
          return false;
        }
        return true;
      });
  }

  // --- Opening, closing, sending -------------------------------------------------------
  // At phone widths (careerbot.css's max-width: 480px) the open panel covers the page: it is then a
  // modal dialog that keeps the keyboard inside; wider, the page beside it stays reachable.
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 480px)") : null;

  function modal() { return Boolean(narrow && narrow.matches) && !panel.hasAttribute("hidden"); }

  function updateModal() {
    if (modal()) panel.setAttribute("aria-modal", "true");
    else panel.removeAttribute("aria-modal");
  }

  function focusables() {
    return Array.prototype.filter.call(panel.querySelectorAll("button, input, a[href], [tabindex]"), function (node) {
      return !node.disabled && node.tabIndex >= 0 && node.getClientRects().length > 0;
    });
  }

  // Tab from the last control goes to the first, Shift+Tab from the first to the last.
  function trapTab(event) {
    var items = focusables();
    if (!items.length) return;
    var at = items.indexOf(shadow.activeElement);
    if (event.shiftKey && at <= 0) {
      event.preventDefault();
      items[items.length - 1].focus();
    } else if (!event.shiftKey && (at < 0 || at === items.length - 1)) {
      event.preventDefault();
      items[0].focus();
    }
  }

  // Focus that reaches the page behind the modal panel (a script, a screen reader's move) comes back.
  function keepFocus(event) {
    if (!modal() || event.target === host) return;
    var items = focusables();
    (items.indexOf(input) >= 0 ? input : items[0] || log).focus();
  }

  function setOpen(open, focus) {
    commit(function (s) { s.open = open; });
    launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      panel.removeAttribute("hidden");
      launcher.setAttribute("hidden", "");
      updateModal();
      if (!state.messages.length && text.greeting) {
        // One id per conversation: two tabs opening at once add it once.
        commit(function (s) {
          s.messages.push({ id: "greeting-" + s.epoch, from: "bot", text: text.greeting, buttons: [], t: 0 });
        });
      }
      scrollToEnd();
      if (focus !== false) input.focus();
    } else {
      panel.setAttribute("hidden", "");
      launcher.removeAttribute("hidden");
      updateModal();
      if (focus !== false) launcher.focus();
    }
  }

  function length(value) { return Array.from(value).length; }

  function updateCounter() {
    var count = length(input.value);
    var message = "";
    if (maxLength && count > maxLength) message = fill(text.tooLong, count - maxLength);
    else if (maxLength && count >= maxLength * COUNTER_FROM) message = fill(text.charactersLeft, maxLength - count);
    if (counter.textContent !== message) counter.textContent = message;
    var tooLong = Boolean(maxLength && count > maxLength);
    input.setAttribute("aria-invalid", String(tooLong));
    root.classList.toggle("cb-too-long", tooLong);
  }

  // Queues a message; the connected tab sends it. False when there is nothing to send or it is too long.
  function send(payload, label) {
    var message = String(payload === undefined || payload === null ? "" : payload).trim();
    if (!message || connection === "unavailable" || connection === "broken") return false;
    if (maxLength && length(message) > maxLength) return false;
    commit(function (s) {
      s.messages.push({
        id: newId(), from: "user", text: label || message, payload: label ? message : undefined, buttons: [],
        t: Math.max(Date.now(), s.messages.length ? s.messages[s.messages.length - 1].t + 1 : 0),
        status: "queued", context: config.context,
      });
    });
    scrollToEnd();
    if (leader) flush();
    return true;
  }

  function reset() {
    commit(function (s) {
      var fresh = emptyState(Math.max(Date.now(), s.epoch + 1));
      fresh.open = s.open;
      return fresh;
    });
    if (state.open && text.greeting) {
      commit(function (s) {
        s.messages.push({ id: "greeting-" + s.epoch, from: "bot", text: text.greeting, buttons: [], t: 0 });
      });
    }
    if (leader) startOver();
  }

  launcher.addEventListener("click", function () { setOpen(true); });
  closeButton.addEventListener("click", function () { setOpen(false); });
  startOverButton.addEventListener("click", function () { reset(); input.focus(); });
  panel.addEventListener("keydown", function (event) {
    if (event.key === "Escape") setOpen(false);
    else if (event.key === "Tab" && modal()) trapTab(event);
  });
  document.addEventListener("focusin", keepFocus);
  function onNarrow() { updateModal(); }
  function onScheme() { applyTheme(); }
  if (narrow) listen(narrow, onNarrow);
  if (darkQuery) listen(darkQuery, onScheme);
  input.addEventListener("input", updateCounter);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    // Too long: the counter says so, and the text stays for the visitor to shorten.
    if (send(input.value)) {
      input.value = "";
      updateCounter();
    }
  });

  function onStorage(event) {
    if (event.key !== STORAGE_KEY && event.key !== null) return;
    var epoch = state.epoch;
    var stored = readStored();
    state = merge(state, stored);
    // Two tabs wrote at once and the other write lost something this tab holds: store it again.
    if (!stored || shared(stored) !== shared(state)) write();
    render();
    if (leader) {
      if (state.epoch !== epoch) startOver();
      flush();
    }
  }
  window.addEventListener("storage", onStorage);

  // --- Talking to Rasa (the connected tab only) ------------------------------------------
  var socket = null;
  var inFlight = null; // id of the message sent and not yet acknowledged
  // The replies of the current try at sending `inFlight`: { id, matched: {bot message id: true} }.
  var attempt = null;
  var requests = []; // the epoch of each session_request awaiting its session_confirm

  function requestSession(sessionId) {
    requests.push(state.epoch);
    socket.emit("session_request", { session_id: sessionId });
  }

  function startOver() {
    inFlight = null;
    setBusy(false);
    if (socket && socket.connected) requestSession(null);
  }

  // Sends the oldest queued message, one at a time so the bot reads them in order.
  function flush() {
    if (!socket || !socket.connected || connection !== "online" || !state.sessionId || inFlight) return;
    var next = state.messages.filter(function (m) { return m.from === "user" && m.status === "queued"; })[0];
    if (!next) return;
    inFlight = next.id;
    attempt = { id: next.id, matched: {} };
    var payload = { message: next.payload || next.text, message_id: next.id, session_id: state.sessionId };
    if (next.context !== null && next.context !== undefined) payload.metadata = { context: next.context };
    setBusy(true);
    var sentOn = socket;
    socket.emit("user_uttered", payload, function (ack) {
      if (sentOn !== socket || inFlight !== next.id) return;
      inFlight = null;
      if (ack && ack.status === "retry") {
        // The server could not store the turn and sent no reply: keep it queued, send it again.
        setBusy(false);
        setTimeout(flush, 1000 * Math.min(Math.max(Number(ack.retry_after) || 5, 1), 60));
        return;
      }
      var failed = !ack || typeof ack !== "object" || ack.error;
      commit(function (s) {
        s.messages.forEach(function (m) {
          if (m.id === next.id) m.status = failed ? "failed" : undefined;
        });
        if (failed) {
          s.messages.push({ id: "failed-" + next.id, from: "bot", text: text.failed, buttons: [], t: Date.now() });
        }
      });
      setBusy(false);
      flush();
    });
  }

  function onBotMessage(message) {
    if (!message || typeof message !== "object") return;
    // Rasa's socket.io channel sends buttons as quick_replies; other
    // channels and custom payloads use buttons: accept both.
    var buttons = (message.quick_replies || message.buttons || []).filter(function (b) {
      return b && typeof b.title === "string" && typeof b.payload === "string";
    }).map(function (b) { return { title: b.title, payload: b.payload }; });
    var body = typeof message.text === "string" ? message.text : "";
    if (!body && message.attachment && message.attachment.payload && safeUrl(message.attachment.payload.src || "")) {
      body = message.attachment.payload.src;
    }
    if (!body && !buttons.length) return;
    var turn = attempt && attempt.id === inFlight ? attempt : null;
    commit(function (s) {
      // A message sent again (its acknowledgement was lost with the connection) gets its first
      // replies again: each one already shown for that message, and not yet matched in this try, is a copy.
      var copy = turn && s.messages.filter(function (m) {
        return m.from === "bot" && m.replyTo === turn.id && !turn.matched[m.id] && sameReply(m, body, buttons);
      })[0];
      if (copy) {
        turn.matched[copy.id] = true;
        return;
      }
      var last = s.messages.length ? s.messages[s.messages.length - 1].t : 0;
      var id = newId();
      if (turn) turn.matched[id] = true;
      s.messages.push({
        id: id, from: "bot", text: body, buttons: buttons, t: Math.max(Date.now(), last + 1),
        replyTo: turn ? turn.id : undefined,
      });
    });
  }

  function sameReply(message, body, buttons) {
    return message.text === body && JSON.stringify(message.buttons) === JSON.stringify(buttons);
  }

  function connect(io) {
    socket = io(config.server, {
      path: "/socket.io", transports: config.transports, reconnectionDelayMax: 3000,
    });
    socket.on("connect", function () {
      commit();
      requests = [];
      requestSession(state.sessionId);
      if (!maxLength) checkOrigin().catch(function () { /* the limit comes with the next try */ });
    });
    socket.on("session_confirm", function (confirmed) {
      var id = typeof confirmed === "string" ? confirmed : confirmed && confirmed.session_id;
      var epoch = requests.shift();
      // A confirmation for a conversation started over since it was requested.
      if (epoch !== state.epoch || !id) return;
      commit(function (s) {
        if (s.sessionId !== id) {
          s.sessionId = id;
          s.sessionAt = Date.now();
        }
      });
      setConnection("online");
      flush();
    });
    socket.on("bot_uttered", onBotMessage);
    function lost() {
      inFlight = null;
      if (connection === "unavailable") return;
      // Refused, or unreachable? Only the server's answer to a plain request can tell.
      checkOrigin().then(function (allowed) {
        if (allowed) {
          if (!socket.connected) setConnection("offline");
        } else {
          setConnection("unavailable");
          socket.disconnect();
        }
      }, function () { if (!socket.connected) setConnection("offline"); });
    }
    socket.on("disconnect", lost);
    socket.on("connect_error", lost);
  }

  // The vendored socket.io client, kept to the widget: while it runs, window.io
  // is a trap that hands the value it sets to the widget and keeps the page's.
  function loadSocketIo(then) {
    var tag = document.createElement("script");
    var descriptor = Object.getOwnPropertyDescriptor(window, "io");
    var pageHad = Boolean(descriptor);
    var pageIo = window.io;
    var ours = null;
    var trapped = !descriptor || descriptor.configurable;
    if (trapped) {
      Object.defineProperty(window, "io", {
        configurable: true,
        get: function () { return pageIo; },
        set: function (value) {
          if (document.currentScript === tag) ours = value;
          else { pageIo = value; pageHad = true; }
        },
      });
    }
    function restore() {
      if (trapped) {
        delete window.io;
        if (pageHad) window.io = pageIo;
      } else {
        // The page declared `var io`: the script set it; give the page its own back.
        ours = window.io;
        window.io = pageIo;
      }
    }
    tag.src = base + "vendor/socket.io.min.js";
    tag.async = true;
    tag.onload = function () {
      restore();
      if (typeof ours === "function") then(ours);
      else setConnection("broken");
    };
    tag.onerror = function () {
      restore();
      setConnection("broken");
    };
    document.head.appendChild(tag);
  }

  var destroyed = false;
  var stopElection = null;
  var releaseLock = null;

  function becomeLeader() {
    if (destroyed) return;
    leader = true;
    setConnection("connecting");
    checkOrigin().then(function (allowed) {
      if (destroyed) return;
      if (!allowed) setConnection("unavailable");
      else loadSocketIo(connect);
    }, function () {
      // Unreachable now: connect anyway, socket.io retries until it is back.
      if (!destroyed) loadSocketIo(connect);
    });
  }

  function elect() {
    if (!navigator.locks || typeof AbortController !== "function") {
      becomeLeader();
      return;
    }
    var abort = new AbortController();
    stopElection = function () { abort.abort(); };
    navigator.locks.request(LOCK_NAME, { signal: abort.signal }, function () {
      if (destroyed) return null;
      becomeLeader();
      return new Promise(function (resolve) { releaseLock = resolve; });
    }).catch(function () { /* aborted by destroy() */ });
  }

  function start() {
    document.body.appendChild(host);
    stylesheet.addEventListener("load", reveal);
    // Without its stylesheet the widget still works, unstyled.
    stylesheet.addEventListener("error", reveal);
    if (channel) channel.postMessage({ type: "hello" });
    elect();
    // Every tab: the length limit for its counter, and the refusal said on every page that gets it.
    checkOrigin().then(function (allowed) {
      if (!allowed) showConnection("unavailable", false);
    }, function () { /* unreachable: the connected tab says so */ });
  }

  function reveal() {
    if (shown || destroyed) return;
    shown = true;
    applyTheme();
    root.style.display = "";
    render();
    if (state.open) setOpen(true, false);
    scrollToEnd();
  }

  function destroy() {
    destroyed = true;
    if (socket) {
      socket.off();
      socket.disconnect();
    }
    if (stopElection) stopElection();
    if (releaseLock) releaseLock();
    if (channel) channel.close();
    window.removeEventListener("storage", onStorage);
    document.removeEventListener("focusin", keepFocus);
    if (narrow) unlisten(narrow, onNarrow);
    if (darkQuery) unlisten(darkQuery, onScheme);
    clearTimeout(typingTimer);
    if (host.parentNode) host.parentNode.removeChild(host);
    delete window.Careerbot;
    delete window.CareerbotWidget;
  }

  window.Careerbot = {
    open: function () { setOpen(true); },
    close: function () { setOpen(false, false); },
    send: function (message) {
      var queued = send(message);
      if (queued && !state.open) setOpen(true, false);
      return queued;
    },
    reset: reset,
    destroy: destroy,
    // For pages that render bot text elsewhere, and for tests.
    renderText: renderText,
  };
  // The name of earlier versions.
  window.CareerbotWidget = window.Careerbot;

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
