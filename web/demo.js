/*
 * The demo host page. A real host app mints the widget token on its server for the
 * logged-in borrower; here, in development only, POST /demo/token does it. The token
 * is kept in sessionStorage as the host app's session would be, so a reload stays
 * logged in.
 */
(function () {
  "use strict";

  function meta(name) {
    var tag = document.querySelector('meta[name="' + name + '"]');
    return tag ? tag.content : "";
  }

  var TOKEN_KEY = "demo-widget-token";
  var WHO_KEY = "demo-widget-loan";
  var container = document.getElementById("chat");
  var form = document.getElementById("demo-login");
  var who = document.getElementById("demo-who");
  var logout = document.getElementById("demo-logout");
  var chat = null;

  function session(key, value) {
    try {
      if (value === undefined) return sessionStorage.getItem(key);
      if (value === null) sessionStorage.removeItem(key);
      else sessionStorage.setItem(key, value);
    } catch (e) { return null; }
  }

  function showLogin() {
    var loan = session(WHO_KEY);
    var loggedIn = Boolean(session(TOKEN_KEY));
    who.textContent = loggedIn ? "Logged in: " + loan : "";
    who.hidden = logout.hidden = !loggedIn;
    form.querySelector("input").hidden = form.querySelector('button[type="submit"]').hidden = loggedIn;
    form.querySelector("label").hidden = loggedIn;
  }

  function start() {
    if (chat) chat.destroy();
    chat = ChatWidget.mount(container, {
      url: meta("chat-socket-url"),
      title: meta("chat-title"),
      token: function () { return session(TOKEN_KEY); },
      onTokenRejected: function () {
        session(TOKEN_KEY, null);
        showLogin();
      },
    });
    showLogin();
  }

  if (meta("chat-demo-login") === "on") {
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      fetch("/demo/token", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ loan_ref: form.elements.loan_ref.value }),
      })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (data) {
          session(TOKEN_KEY, data.token);
          session(WHO_KEY, data.loan_ref);
          start();
        })
        .catch(function () { form.elements.loan_ref.setCustomValidity("not a loan reference (like LN-10001)"); form.reportValidity(); });
    });
    form.elements.loan_ref.addEventListener("input", function () { this.setCustomValidity(""); });
    logout.addEventListener("click", function () {
      session(TOKEN_KEY, null);
      session(WHO_KEY, null);
      start();
    });
  }
  start();
})();
