/* Report sync upload: warn before sending a file the server would refuse for its size (the
   server still checks; this only saves uploading hundreds of megabytes for nothing). */
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.upload-form");
    if (!form) {
      return;
    }
    var input = form.querySelector("input[type=file]");
    var warning = form.querySelector(".upload-size-warning");
    var limit = Number(form.dataset.maxBytes || 0);
    function check() {
      var file = input.files && input.files[0];
      var tooLarge = Boolean(file && limit && file.size > limit);
      warning.textContent = tooLarge ? form.dataset.tooLarge : "";
      input.classList.toggle("is-invalid", tooLarge);
      input.setCustomValidity(tooLarge ? form.dataset.tooLarge : "");
      return !tooLarge;
    }
    input.addEventListener("change", check);
    form.addEventListener("submit", function (event) {
      if (!check()) {
        event.preventDefault();
      }
    });
    var refusal = document.getElementById("upload-refusal");
    if (refusal) {
      refusal.focus();
    }
  });
})();
