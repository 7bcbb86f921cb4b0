// The top-bar search box (UX-1): arrow keys move through the suggestions, Enter opens the chosen
// one (or the results page when none is chosen), Escape closes them. crm.js has the "/" shortcut.
(function () {
  "use strict";

  function box() { return document.getElementById("search-suggest"); }
  function input() { return document.getElementById("global-search"); }
  function options() { var b = box(); return b ? Array.prototype.slice.call(b.querySelectorAll("[data-suggest-option]")) : []; }

  function select(index) {
    var opts = options();
    var field = input();
    opts.forEach(function (o, i) {
      var on = i === index;
      o.classList.toggle("active", on);
      o.setAttribute("aria-selected", on ? "true" : "false");
      if (on) {
        o.scrollIntoView({ block: "nearest" });
        if (field) field.setAttribute("aria-activedescendant", o.id);
      }
    });
    if (index < 0 && field) field.removeAttribute("aria-activedescendant");
  }

  function current() {
    var opts = options();
    for (var i = 0; i < opts.length; i++) if (opts[i].classList.contains("active")) return i;
    return -1;
  }

  function close() {
    var b = box();
    if (b) b.innerHTML = "";
    var field = input();
    if (field) { field.setAttribute("aria-expanded", "false"); field.removeAttribute("aria-activedescendant"); }
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.target !== input()) return;
    var opts = options();
    var i = current();
    if (evt.key === "ArrowDown" && opts.length) {
      evt.preventDefault();
      select(i + 1 >= opts.length ? 0 : i + 1);
    } else if (evt.key === "ArrowUp" && opts.length) {
      evt.preventDefault();
      select(i <= 0 ? opts.length - 1 : i - 1);
    } else if (evt.key === "Enter" && i >= 0) {
      evt.preventDefault();
      window.location.href = opts[i].getAttribute("href");
    } else if (evt.key === "Escape") {
      close();
    }
  });

  document.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.detail.target !== box()) return;
    var field = input();
    if (field) field.setAttribute("aria-expanded", options().length ? "true" : "false");
  });

  // A click elsewhere closes the suggestions.
  document.addEventListener("click", function (evt) {
    var b = box();
    if (b && b.innerHTML && !evt.target.closest(".crm-search")) close();
  });
})();
