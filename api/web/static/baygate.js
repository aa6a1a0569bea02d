// The assessment form's small behaviours; the page works without them but for adding rows.
// Served by baygate itself (no other host); htmx does the requests.
(function () {
  "use strict";

  function nextIndex(rows) {
    var highest = -1;
    rows.querySelectorAll("[name]").forEach(function (el) {
      var match = el.name.match(/\.(\d+)\./);
      if (match) { highest = Math.max(highest, parseInt(match[1], 10)); }
    });
    return highest + 1;
  }

  function syncChoosers(scope) {
    scope.querySelectorAll("select[data-chooser]").forEach(function (select) {
      var field = select.closest(".field");
      var other = field.querySelector("[data-other-of]");
      var otherLabel = other && field.querySelector("label[for='" + other.id + "']");
      var show = select.value === "other";
      if (other) { other.hidden = !show; if (otherLabel) { otherLabel.hidden = !show; } }
      if (select.dataset.chooser === "jurisdiction") {
        var party = select.closest("fieldset");
        var city = party && party.querySelector("[data-mainland-only]");
        if (city) { city.hidden = select.value !== "CN"; }
      }
    });
  }

  function changed(form) {
    form.dispatchEvent(new Event("change", { bubbles: true }));
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add]");
    if (add) {
      var section = add.closest("[data-repeats]");
      var rows = section.querySelector("[data-rows]");
      var template = section.querySelector(":scope > template");
      var index = String(nextIndex(rows));
      var html = template.innerHTML.split("__i__").join(index);
      rows.insertAdjacentHTML("beforeend", html);
      var added = rows.lastElementChild;
      syncChoosers(added);
      var first = added.querySelector("input, select");
      if (first) { first.focus(); }
      changed(add.closest("form"));
      return;
    }
    if (event.target.closest("[data-print]")) { window.print(); return; }
    var remove = event.target.closest("[data-remove]");
    if (remove) {
      var form = remove.closest("form");
      remove.closest("[data-row]").remove();
      changed(form);
    }
  });

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-chooser]")) {
      syncChoosers(event.target.closest("fieldset") || document);
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    syncChoosers(document);
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
      });
    });
  });
})();
