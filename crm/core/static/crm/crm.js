// The CRM's own script: no inline handlers anywhere (CSP), so behaviour is attached here.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  document.addEventListener("htmx:configRequest", function (evt) {
    evt.detail.headers["X-CSRFToken"] = csrfToken();
  });

  function initLookups(root) {
    if (typeof TomSelect === "undefined") return;
    root.querySelectorAll("select.js-lookup:not(.tomselected)").forEach(function (el) {
      var url = el.dataset.lookup;
      new TomSelect(el, {
        valueField: "value",
        labelField: "text",
        searchField: ["text"],
        preload: "focus",
        maxOptions: 20,
        allowEmptyOption: true,
        load: function (query, callback) {
          fetch(url + "?q=" + encodeURIComponent(query), { credentials: "same-origin" })
            .then(function (r) { return r.json(); })
            .then(function (data) { callback(data.results); })
            .catch(function () { callback(); });
        },
      });
    });
  }

  function initListForm(root) {
    var form = root.querySelector("#list-form");
    if (!form) return;
    form.addEventListener("submit", function () {
      var cols = Array.prototype.map.call(form.querySelectorAll("input[data-col]:checked"), function (c) { return c.value; });
      form.querySelector("#id_cols").value = cols.join(",");
      form.querySelectorAll("input[data-col]").forEach(function (c) { c.disabled = true; });
      setTimeout(function () { form.querySelectorAll("input[data-col]").forEach(function (c) { c.disabled = false; }); }, 0);
    });
  }

  document.addEventListener("change", function (evt) {
    if (evt.target.matches("[data-check-all]")) {
      var table = evt.target.closest("table");
      table.querySelectorAll('input[name="ids"]').forEach(function (box) { box.checked = evt.target.checked; });
    }
  });

  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest("[data-confirm]");
    if (btn && !window.confirm(btn.dataset.confirm)) evt.preventDefault();
  });

  // Keyboard: "/" focuses the global search; Escape closes the suggestions.
  document.addEventListener("keydown", function (evt) {
    var search = document.getElementById("global-search");
    if (!search) return;
    if (evt.key === "/" && document.activeElement.tagName !== "INPUT" && document.activeElement.tagName !== "TEXTAREA") {
      evt.preventDefault();
      search.focus();
    } else if (evt.key === "Escape") {
      var box = document.getElementById("search-suggest");
      if (box) box.innerHTML = "";
    }
  });

  document.addEventListener("htmx:afterRequest", function (evt) {
    var form = evt.detail.elt;
    if (form.matches && form.matches("[data-reset-on-success]") && evt.detail.successful) form.reset();
  });

  document.addEventListener("htmx:afterSwap", function (evt) { initLookups(evt.detail.target); });
  document.addEventListener("DOMContentLoaded", function () {
    initLookups(document);
    initListForm(document);
  });
})();
