// The merge page (CUS-3): "Take all values" picks every field of one record. No inline scripts (CSP).
(function () {
  "use strict";
  document.addEventListener("click", function (evt) {
    var btn = evt.target.closest("[data-merge-column]");
    if (!btn) return;
    var pk = btn.getAttribute("data-merge-column");
    var form = btn.closest("form");
    form.querySelectorAll('input[type=radio][data-record="' + pk + '"]').forEach(function (radio) {
      radio.checked = true;
    });
  });
})();
