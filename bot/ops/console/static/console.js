// The team console's small scripts: reply-by countdowns, the live conversation, the queue's refresh.
(function () {
  "use strict";

  // The page's words in the operator's language (the server's catalogue, in base.html).
  var words = {};
  try { words = JSON.parse(document.getElementById("words").textContent) || {}; } catch (e) { words = {}; }
  function say(key, values) {
    var text = words[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("%(" + name + ")s").join(values[name]); });
    return text;
  }

  function countdowns() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-reply-by]").forEach(function (el) {
      var at = Date.parse(el.getAttribute("data-reply-by"));
      if (isNaN(at)) { return; }
      var seconds = Math.round((at - now) / 1000);
      var late = seconds < 0;
      var s = Math.abs(seconds);
      var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      var parts = [];
      if (h) { parts.push(say("h", { n: h })); }
      if (h || m) { parts.push(say("min", { n: m })); }
      if (!h) { parts.push(say("s", { n: sec })); }
      el.textContent = say(late ? "overdue" : "within", { time: parts.join(" ") });
      el.classList.toggle("late", late);
    });
  }

  function line(item) {
    var li = document.createElement("li");
    li.className = "line " + item.from;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = item.from === "agent" ? (item.by || say("agent")) : (item.from === "system" ? "" : say(item.from));
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = item.from === "system" ? say(item.text === "pause" ? "paused" : "resumed") : item.text;
    li.appendChild(who);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(text);
    return li;
  }

  function live(list) {
    var url = list.getAttribute("data-url");
    var count = parseInt(list.getAttribute("data-count") || "0", 10);
    list.scrollTop = list.scrollHeight;
    function poll() {
      fetch(url + "?after=" + count, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.status === 401 ? (window.location = "/login") && null : r.json(); })
        .then(function (data) {
          if (!data || !data.lines) { return; }
          data.lines.forEach(function (item) { list.appendChild(line(item)); });
          if (data.lines.length) { list.scrollTop = list.scrollHeight; }
          count = data.count;
        })
        .catch(function () { /* the next poll tries again */ })
        .then(function () { window.setTimeout(poll, 1500); });
    }
    window.setTimeout(poll, 1500);
  }

  document.addEventListener("DOMContentLoaded", function () {
    countdowns();
    window.setInterval(countdowns, 1000);
    var list = document.getElementById("transcript");
    if (list && !list.hasAttribute("data-off")) { live(list); }
    var queue = document.querySelector(".queue[data-refresh]");
    if (queue) {
      window.setInterval(function () {
        var active = document.activeElement;
        if (!active || active === document.body) { window.location.reload(); }
      }, 1000 * parseInt(queue.getAttribute("data-refresh"), 10));
    }
    var box = document.getElementById("text");
    if (box) {
      box.focus();
      box.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); box.form.requestSubmit(); }
      });
    }
  });
})();
