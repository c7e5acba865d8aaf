/* Small enhancements of the staff pages; every page also works without JavaScript.
   No inline handlers: behaviour is attached here to data attributes and ids. */
(function () {
  "use strict";

  var DONE_STATES = ["awaiting_confirmation", "completed"];

  // Progress form: the completion date only matters when the task is reported completed.
  // Hide it otherwise, and disable it so that a stale date is not sent with the report.
  function setUpProgressForm(form) {
    var radios = form.querySelectorAll('input[name="state"]');
    var completion = form.querySelector("[data-completion-field]");
    var progress = form.querySelector('input[name="progress"]');
    if (!radios.length || !completion) {
      return;
    }
    function update() {
      var checked = form.querySelector('input[name="state"]:checked');
      var done = checked && DONE_STATES.indexOf(checked.value) !== -1;
      completion.hidden = !done;
      completion.querySelectorAll("input").forEach(function (input) {
        input.disabled = !done;
      });
      if (done && progress) {
        progress.value = "100";
      }
    }
    radios.forEach(function (radio) {
      radio.addEventListener("change", update);
    });
    update();
  }

  // Bring keyboard and screen-reader users to the message that explains why a form was
  // not saved (someone else's change, or errors).
  function focusNotice() {
    var notice = document.getElementById("stale-notice") || document.getElementById("form-errors");
    if (notice) {
      notice.focus();
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".progress-form").forEach(setUpProgressForm);
    focusNotice();
  });
})();
