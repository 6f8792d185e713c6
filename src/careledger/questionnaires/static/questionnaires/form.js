// enableWhen while filling in (FHIR semantics, as questionnaires/enable.py): a row whose
// conditions fail, or whose group is hidden, is hidden and its inputs disabled (not posted).
// The server decides again on every save; without this script the form still works.
(function () {
  "use strict";
  var form = document.getElementById("questionnaire-form");
  if (!form) return;
  var rows = Array.prototype.slice.call(form.querySelectorAll("[data-q-item]"));
  var byId = {};
  rows.forEach(function (row) { byId[row.getAttribute("data-q-item")] = row; });

  function valuesOf(name) {
    var out = [];
    form.querySelectorAll('[name="' + name + '"]').forEach(function (input) {
      if (input.disabled) return;
      if ((input.type === "radio" || input.type === "checkbox") && !input.checked) return;
      if (input.value.trim() !== "") out.push(input.value.trim());
    });
    return out;
  }

  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (!isNaN(x) && !isNaN(y) && /^-?[0-9.]+$/.test(a) && /^-?[0-9.]+$/.test(b)) return x - y;
    if (/^\d{4}-\d{2}-\d{2}$/.test(a) && /^\d{4}-\d{2}-\d{2}$/.test(b)) return a < b ? -1 : a > b ? 1 : 0;
    return null;
  }

  function holds(cond) {
    var answers = valuesOf(cond[0]), op = cond[1], target = cond[2];
    if (op === "exists") return (answers.length > 0) === (target === "true");
    if (op === "=") return answers.some(function (v) { return v === target || compare(v, target) === 0; });
    if (op === "!=") return !answers.some(function (v) { return v === target || compare(v, target) === 0; });
    return answers.some(function (v) {
      var c = compare(v, target);
      if (c === null) return false;
      return op === ">" ? c > 0 : op === "<" ? c < 0 : op === ">=" ? c >= 0 : c <= 0;
    });
  }

  function ownConditions(row) {
    var raw = row.getAttribute("data-enable-when");
    if (!raw) return true;
    var spec = JSON.parse(raw);
    var results = spec.when.map(holds);
    return spec.behavior === "any" ? results.some(Boolean) : results.every(Boolean);
  }

  function apply() {
    for (var pass = 0; pass < 3; pass++) {
      rows.forEach(function (row) {
        var parent = row.getAttribute("data-parent");
        var on = (!parent || !byId[parent] || !byId[parent].hidden) && ownConditions(row);
        row.hidden = !on;
        row.querySelectorAll("input, textarea, select").forEach(function (el) { el.disabled = !on; });
      });
    }
  }

  form.addEventListener("change", apply);
  form.addEventListener("input", apply);
  apply();
})();
