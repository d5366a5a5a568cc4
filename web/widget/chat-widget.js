/*
 * Chat widget for the debt-resolution assistant: plain JS on socket.io-client v4
 * (load /widget/socket.io.min.js first). Every sentence in the conversation comes
 * from the assistant; the widget only draws it.
 *
 *   const chat = ChatWidget.mount(document.getElementById("chat"), {
 *     url: "https://chat.acme-lending.example",  // the Rasa server
 *     token: () => fetchWidgetTokenFromYourApp(),   // optional: string or function, may return a Promise
 *     title: "Acme Lending",
 *   });
 *
 * The server decides which conversation the socket belongs to (channels/socketio.py),
 * from a resume ticket it signed (kept here in localStorage), for a logged-in
 * borrower together with their token. It replays the conversation on every
 * (re)connection, so a reload on this device shows it again; a token alone (another
 * device) starts a new conversation, where the date of birth is asked again.
 */
(function (global) {
  "use strict";

  var MAX_CHARS = 1000;
  var URL_PATTERN = /(https?:\/\/[^\s<>"']+)/g;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* Text with clickable links (e.g. the payment link); never parsed as HTML. */
  function richText(text) {
    var fragment = document.createDocumentFragment();
    String(text).split(URL_PATTERN).forEach(function (part, i) {
      if (i % 2 === 1) {
        var link = el("a", null, part);
        link.href = part;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        fragment.appendChild(link);
      } else if (part) {
        fragment.appendChild(document.createTextNode(part));
      }
    });
    return fragment;
  }

  function storage(key) {
    return {
      get: function () {
        try { return global.localStorage.getItem(key); } catch (e) { return null; }
      },
      set: function (value) {
        try { global.localStorage.setItem(key, value); } catch (e) { /* private mode: no resume */ }
      },
    };
  }

  function mount(container, options) {
    options = options || {};
    if (!global.io) throw new Error("ChatWidget needs socket.io-client (socket.io.min.js) loaded first");
    var ticket = storage(options.storageKey || "chat-widget-ticket");

    var root = el("section", "cw");
    root.setAttribute("aria-label", options.title || "Chat");
    var header = el("header", "cw-header");
    var title = el("h1", "cw-title", options.title || "Chat");
    var status = el("span", "cw-status");
    header.appendChild(title);
    header.appendChild(status);
    var log = el("ol", "cw-log");
    log.setAttribute("role", "log");
    log.setAttribute("aria-live", "polite");
    var form = el("form", "cw-form");
    var input = el("textarea", "cw-input");
    input.rows = 1;
    input.maxLength = MAX_CHARS;
    input.placeholder = options.placeholder || "Type a message";
    input.setAttribute("aria-label", input.placeholder);
    var sendButton = el("button", "cw-send", options.sendLabel || "Send");
    sendButton.type = "submit";
    form.appendChild(input);
    form.appendChild(sendButton);
    root.appendChild(header);
    root.appendChild(log);
    root.appendChild(form);
    container.appendChild(root);

    var typing = null;
    var typingTimer = null;

    function setStatus(state) {
      root.setAttribute("data-state", state);
      status.setAttribute("title", state);
      status.setAttribute("aria-label", state);
    }

    function scrollDown() {
      log.scrollTop = log.scrollHeight;
    }

    function stopTyping() {
      if (typing) typing.remove();
      typing = null;
      clearTimeout(typingTimer);
    }

    function startTyping() {
      stopTyping();
      typing = el("li", "cw-msg cw-bot cw-typing");
      typing.setAttribute("aria-hidden", "true");
      typing.appendChild(el("span"));
      typing.appendChild(el("span"));
      typing.appendChild(el("span"));
      log.appendChild(typing);
      typingTimer = setTimeout(stopTyping, 20000);
      scrollDown();
    }

    /* Buttons answered (or passed by) can't be clicked again. */
    function retireButtons() {
      log.querySelectorAll(".cw-buttons button").forEach(function (b) { b.disabled = true; });
    }

    function addUser(text) {
      retireButtons();
      var item = el("li", "cw-msg cw-user");
      item.appendChild(richText(text));
      log.insertBefore(item, typing);
      scrollDown();
    }

    function addBot(text, buttons) {
      var item = el("li", "cw-msg cw-bot");
      if (text) item.appendChild(el("div", "cw-text")).appendChild(richText(text));
      if (buttons && buttons.length) {
        var group = el("div", "cw-buttons");
        buttons.forEach(function (button) {
          var b = el("button", "cw-button", String(button.title));
          b.type = "button";
          b.addEventListener("click", function () { send(String(button.payload), String(button.title)); });
          group.appendChild(b);
        });
        item.appendChild(group);
      }
      log.insertBefore(item, typing);
      scrollDown();
    }

    var socket = global.io(options.url, {
      path: options.path || "/socket.io",
      transports: ["websocket"],
      auth: function (cb) {
        Promise.resolve(typeof options.token === "function" ? options.token() : options.token)
          .catch(function () { return null; })
          .then(function (token) { cb(token ? { token: token, ticket: ticket.get() } : { ticket: ticket.get() }); });
      },
    });
    setStatus("connecting");

    // Until the server has replayed the conversation (`history`, which redraws the log),
    // what the borrower types is shown and held, then sent after the replay: sent earlier,
    // the replay would wipe it from the screen (a fast typist's first "hi").
    var replayed = false;
    var held = [];
    socket.on("connect", function () {
      replayed = false;
      setStatus("online");
      socket.emit("session_request", {});
    });
    socket.on("disconnect", function () { replayed = false; setStatus("offline"); });
    socket.on("connect_error", function () { setStatus("offline"); });

    socket.on("session_confirm", function (session) {
      session = session || {};
      if (session.ticket) ticket.set(session.ticket);
      if (session.token_rejected && options.onTokenRejected) options.onTokenRejected();
      if (options.onSession) options.onSession(session);
    });

    socket.on("history", function (data) {
      var pending = typing !== null;
      stopTyping();
      log.textContent = "";
      ((data && data.messages) || []).forEach(function (m) {
        if (m.sender === "user") addUser(m.text);
        else addBot(m.text, m.buttons);
      });
      var waiting = held;
      held = [];
      replayed = true;
      waiting.forEach(function (m) { addUser(m.shown); });
      if (pending || waiting.length) startTyping();
      waiting.forEach(function (m) { socket.emit(options.userEvent || "user_uttered", { message: m.text }); });
    });

    socket.on(options.botEvent || "bot_uttered", function (message) {
      if (!message) return;
      stopTyping();
      addBot(message.text, message.quick_replies || message.buttons);
    });

    // A message the server could not take (its queue was full, or a failure):
    // nothing was done with it. Say so, and give the borrower their words back.
    var lastTyped = "";
    socket.on("message_refused", function (refusal) {
      stopTyping();
      if (refusal && refusal.text) addBot(refusal.text);
      if (lastTyped && !input.value) input.value = lastTyped;
    });

    function send(text, shown) {
      text = String(text || "").trim().slice(0, MAX_CHARS);
      if (!text) return;
      lastTyped = shown ? "" : text;
      addUser(shown || text);
      startTyping();
      if (!replayed) { held.push({ text: text, shown: shown || text }); return; }
      socket.emit(options.userEvent || "user_uttered", { message: text });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(input.value);
      input.value = "";
      input.focus();
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit"));
      }
    });

    return {
      send: send,
      destroy: function () {
        stopTyping();
        socket.disconnect();
        root.remove();
      },
    };
  }

  global.ChatWidget = { mount: mount };
})(window);
