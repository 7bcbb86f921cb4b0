// The calendar page (ACT-2): FullCalendar fed by /calendar/events/, drag and resize to
// reschedule through /calendar/events/<id>/move/ (version-checked), with the conflict warning;
// a dragged occurrence of a series asks first: this occurrence, this and following, or all.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }

  function init() {
    var el = document.getElementById("calendar");
    if (!el || typeof FullCalendar === "undefined") return;
    var conflictBox = document.getElementById("cal-conflict");
    var conflictList = document.getElementById("cal-conflict-list");
    var errorBox = document.getElementById("cal-error");
    var person = document.getElementById("cal-person");
    var scopeBox = document.getElementById("cal-scope");
    var pending = null; // a move waiting for "save anyway"
    var pendingScope = null; // the scope chosen for a dragged occurrence
    var choosing = null; // a dragged occurrence waiting for its scope

    function who() {
      var checked = document.querySelector('input[name="who"]:checked');
      return checked ? checked.value : "me";
    }

    function hideNotes() {
      conflictBox.classList.add("d-none");
      errorBox.classList.add("d-none");
      scopeBox.classList.add("d-none");
    }

    function moved(info) {
      hideNotes();
      if (info.event.extendedProps.recurring) {
        choosing = info;
        scopeBox.classList.remove("d-none");
        el.dataset.lastMove = "choose";
        return;
      }
      pendingScope = null;
      send(info, false);
    }

    function showError(text) {
      errorBox.textContent = text;
      errorBox.classList.remove("d-none");
    }

    function send(info, force) {
      var ev = info.event;
      var body = {
        start: ev.start.toISOString(),
        end: ev.end ? ev.end.toISOString() : null,
        version: ev.extendedProps.version,
        force: force ? 1 : 0,
      };
      if (ev.extendedProps.recurring) {
        body.occurrence = ev.extendedProps.occurrence;
        body.scope = pendingScope || "this";
      }
      var url = el.dataset.move.replace(/0\/move\/$/, ev.extendedProps.pk + "/move/");
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
      }).then(function (r) {
        return r.json().then(function (data) { return { status: r.status, data: data }; });
      }).then(function (res) {
        if (res.status === 200) {
          ev.setExtendedProp("version", res.data.version);
          pending = null;
          hideNotes();
          el.dataset.lastMove = "ok";
          if (res.data.reload) calendar.refetchEvents();
          return;
        }
        if (res.status === 409 && res.data.conflicts) {
          pending = info;
          conflictList.textContent = "";
          res.data.conflicts.forEach(function (c) {
            var li = document.createElement("li");
            li.textContent = c.text;
            conflictList.appendChild(li);
          });
          conflictBox.classList.remove("d-none");
          el.dataset.lastMove = "conflict";
          return;
        }
        info.revert();
        pending = null;
        if (res.status === 409 && res.data.changed) {
          showError(el.dataset.msgChanged);
          calendar.refetchEvents();
        } else {
          showError(res.data.error || el.dataset.msgFailed);
        }
        el.dataset.lastMove = "error";
      }).catch(function () {
        info.revert();
        showError(el.dataset.msgFailed);
      });
    }

    var calendar = new FullCalendar.Calendar(el, {
      locale: el.dataset.locale,
      initialView: "timeGridWeek",
      headerToolbar: { left: "prev,next today", center: "title", right: "dayGridMonth,timeGridWeek,timeGridDay" },
      nowIndicator: true,
      editable: true,
      eventStartEditable: true,
      eventDurationEditable: true,
      height: "auto",
      slotMinTime: "07:00:00",
      slotMaxTime: "21:00:00",
      firstDay: 1,
      events: function (fetchInfo, success, failure) {
        var params = new URLSearchParams({ start: fetchInfo.startStr, end: fetchInfo.endStr, who: who() });
        if (who() === "team" && person.value) params.set("person", person.value);
        fetch(el.dataset.events + "?" + params.toString(), { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (data) { success(data); el.dataset.loaded = "1"; })
          .catch(failure);
      },
      eventDrop: function (info) { moved(info); },
      eventResize: function (info) { moved(info); },
      dateClick: function (info) {
        if (!el.dataset.new) return;
        var start = info.dateStr.length > 10 ? info.dateStr.slice(0, 16) : info.dateStr + "T09:00";
        window.location.href = el.dataset.new + "?start_at=" + encodeURIComponent(start);
      },
      eventDidMount: function (info) {
        info.el.setAttribute("data-appointment", info.event.extendedProps.pk);
        var loc = info.event.extendedProps.location;
        if (loc) info.el.title = info.event.title + " · " + loc;
      },
    });
    calendar.render();

    scopeBox.querySelectorAll("[data-scope]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var info = choosing;
        choosing = null;
        scopeBox.classList.add("d-none");
        if (!info) return;
        if (btn.dataset.scope === "") { info.revert(); el.dataset.lastMove = "reverted"; return; }
        pendingScope = btn.dataset.scope;
        send(info, false);
      });
    });
    document.getElementById("cal-save-anyway").addEventListener("click", function () {
      if (pending) send(pending, true);
    });
    document.getElementById("cal-cancel").addEventListener("click", function () {
      if (pending) pending.revert();
      pending = null;
      hideNotes();
    });
    document.querySelectorAll('input[name="who"]').forEach(function (radio) {
      radio.addEventListener("change", function () {
        person.hidden = who() !== "team";
        calendar.refetchEvents();
      });
    });
    person.addEventListener("change", function () { calendar.refetchEvents(); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
