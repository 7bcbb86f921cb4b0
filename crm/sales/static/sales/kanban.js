/* The pipeline board (SAL-2): drag a card to another stage; the server checks the version and
   answers with the new column totals, or an error (the card goes back where it was). */
(function () {
  "use strict";

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function showError(text) {
    var box = document.getElementById("board-message");
    box.textContent = text;
    box.classList.remove("d-none");
  }

  function putBack(evt) {
    var ref = evt.from.children[evt.oldIndex] || null;
    evt.from.insertBefore(evt.item, ref);
  }

  function updateTotals(columns) {
    document.querySelectorAll(".sales-column").forEach(function (col) {
      var t = columns[col.dataset.stage] || { count: 0, total: "0.00", weighted: "0.00" };
      col.querySelector('[data-field="count"]').textContent = t.count;
      col.querySelector('[data-field="total"]').textContent = t.total;
      col.querySelector('[data-field="weighted"]').textContent = t.weighted;
    });
  }

  function onEnd(evt) {
    if (evt.from === evt.to) { return; }
    var card = evt.item;
    var target = evt.to;
    if (target.dataset.kind === "lost") {  // losing needs a reason: the form asks for it
      putBack(evt);
      window.location.href = card.dataset.loseUrl;
      return;
    }
    var board = document.getElementById("sales-board");
    var body = new URLSearchParams(board.dataset.query || "");
    body.set("stage", target.dataset.stage);
    body.set("version", card.dataset.version);
    card.classList.add("opacity-50");
    fetch(card.dataset.moveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": csrf(), "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString(),
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    }).then(function (result) {
      card.classList.remove("opacity-50");
      if (!result.ok) {
        putBack(evt);
        showError(result.data.error || "Error");
        return;
      }
      document.getElementById("board-message").classList.add("d-none");
      card.dataset.version = result.data.version;
      updateTotals(result.data.columns);
    }).catch(function () {
      card.classList.remove("opacity-50");
      putBack(evt);
      showError(board.dataset.networkError || "Network error");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var board = document.getElementById("sales-board");
    if (!board || !board.dataset.editable || typeof Sortable === "undefined") { return; }
    board.querySelectorAll(".sales-column-body").forEach(function (list) {
      // forceFallback: the same mouse and touch dragging in every browser (no native HTML5 drag image).
      Sortable.create(list, { group: "board", draggable: ".sales-card", animation: 120, forceFallback: true, onEnd: onEnd });
    });
    board.dataset.ready = "1";
  });
})();
