/* CareLedger workbench behaviour. Loaded as a file (CSP script-src 'self'): no inline scripts. */
(function () {
  "use strict";

  // A form that came back with errors: move focus to the summary so screen readers announce it.
  function focusErrorSummary() {
    var summary = document.querySelector(".error-summary");
    if (summary) {
      summary.focus();
    }
  }

  // Resident ID card (GB 11643): digits 7-14 are the birth date, digit 17 is odd for men.
  // Fill birth date and sex from the number when they are still empty; never overwrite what
  // was typed (the server cross-checks all three either way).
  function residentIdParts(value) {
    var compact = value.replace(/\s+/g, "").toUpperCase();
    if (!/^\d{17}[\dX]$/.test(compact)) {
      return null;
    }
    var y = compact.slice(6, 10), m = compact.slice(10, 12), d = compact.slice(12, 14);
    var date = new Date(Number(y), Number(m) - 1, Number(d));
    if (date.getFullYear() !== Number(y) || date.getMonth() !== Number(m) - 1 || date.getDate() !== Number(d)) {
      return null;
    }
    return { birthDate: y + "-" + m + "-" + d, sex: Number(compact.charAt(16)) % 2 === 1 ? "M" : "F" };
  }

  function wireIdAutofill(form) {
    var number = form.querySelector("[name=document_number]");
    var type = form.querySelector("[name=document_type]");
    var birth = form.querySelector("[name=birth_date]");
    if (!number || !type || !birth) {
      return;
    }
    number.addEventListener("input", function () {
      if (type.value !== "resident_id") {
        return;
      }
      var parts = residentIdParts(number.value);
      if (!parts) {
        return;
      }
      if (!birth.value) {
        birth.value = parts.birthDate;
      }
      var sexChosen = form.querySelector("[name=sex]:checked");
      var sexInput = form.querySelector("[name=sex][value=" + parts.sex + "]");
      if (!sexChosen && sexInput) {
        sexInput.checked = true;
      }
    });
  }

  // One click, one submission: a second click while the first is on its way does nothing.
  function guardDoubleSubmit(form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.submitting === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.submitting = "1";
      var button = form.querySelector("[type=submit]");
      if (button) {
        button.setAttribute("aria-disabled", "true");
        button.classList.add("disabled");
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    focusErrorSummary();
    document.querySelectorAll("form[data-id-autofill]").forEach(wireIdAutofill);
    document.querySelectorAll("form.client-form").forEach(guardDoubleSubmit);
  });

  // Coming back with the browser's Back button restores the page from cache: re-enable forms.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form.client-form").forEach(function (form) {
      form.dataset.submitting = "";
      var button = form.querySelector("[type=submit]");
      if (button) {
        button.removeAttribute("aria-disabled");
        button.classList.remove("disabled");
      }
    });
  });
})();
