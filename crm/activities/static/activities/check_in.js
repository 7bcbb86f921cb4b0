// Check-in (ACT-6): the phone's position from the Geolocation API into the form's hidden fields.
(function () {
  "use strict";

  function init() {
    var form = document.getElementById("checkin-form");
    if (!form) return;
    var status = document.getElementById("checkin-status");
    function set(name, value) {
      var input = form.querySelector('[name="' + name + '"]');
      if (input) input.value = value;
    }
    if (!navigator.geolocation) {
      status.className = "alert alert-warning py-2";
      status.textContent = form.dataset.msgDenied;
      return;
    }
    navigator.geolocation.getCurrentPosition(function (pos) {
      set("latitude", pos.coords.latitude.toFixed(6));
      set("longitude", pos.coords.longitude.toFixed(6));
      set("accuracy_m", Math.round(pos.coords.accuracy));
      status.className = "alert alert-success py-2";
      status.textContent = form.dataset.msgFound.replace("%s", Math.round(pos.coords.accuracy));
    }, function () {
      status.className = "alert alert-warning py-2";
      status.textContent = form.dataset.msgDenied;
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
