// The person pickers (templates/macros.html `pick`, pages/picker.py): as a person types a
// part of a name, the people found are asked of the console (/pick/...) and put in place of
// the select and its note. Without JavaScript the "查找" button reloads the page instead.
(function () {
  "use strict";

  function attach(box) {
    var input = box.querySelector(".pick-find input");
    var button = box.querySelector(".pick-find button");
    var choices = box.querySelector(".pick-choices");
    var timer = null;
    var asked = 0;
    var last = input.value.trim();

    function say(text) {
      var note = choices.querySelector(".pick-note");
      if (note) note.textContent = text;
    }

    function ask(again) {
      var q = input.value.trim();
      clearTimeout(timer);
      if (q === last && !again) return;
      last = q;
      var n = ++asked;
      box.setAttribute("aria-busy", "true");
      fetch(box.getAttribute("data-pick") + "&q=" + encodeURIComponent(q), {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      })
        .then(function (answer) {
          // signed out (sent to sign in) or a server error: not a list of people
          if (answer.redirected || answer.status >= 500) throw new Error(String(answer.status));
          return answer.text();
        })
        .then(function (html) {
          if (n !== asked) return; // a later search is under way
          choices.innerHTML = html;
          box.removeAttribute("aria-busy");
        })
        .catch(function () {
          if (n !== asked) return;
          last = null;
          box.removeAttribute("aria-busy");
          say("查找失败，请稍后再试（或刷新页面）。");
        });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, 300);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        ask(true);
      }
    });
    button.addEventListener("click", function (event) {
      event.preventDefault();
      ask(true);
    });
  }

  var boxes = document.querySelectorAll(".pick[data-pick]");
  for (var i = 0; i < boxes.length; i++) attach(boxes[i]);
})();
