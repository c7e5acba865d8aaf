/* A button that copies the value of a read-only field (data-copy-target: the field's id), on
   the account page (calendar link) and the API tokens page (a new token). Without JavaScript
   the button stays hidden and the value can be selected in its read-only field. */
(function () {
  "use strict";

  function setUpCopy(button) {
    var input = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.querySelector(
      '[data-copy-status="' + button.getAttribute("data-copy-target") + '"]'
    );
    if (!input) {
      return;
    }
    function say(text) {
      if (status) {
        status.textContent = text;
      }
    }
    function fallback() {
      input.focus();
      input.select();
      var copied = false;
      try {
        copied = document.execCommand("copy");
      } catch (error) {
        copied = false;
      }
      say(button.getAttribute(copied ? "data-copied-text" : "data-failed-text"));
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () {
          say(button.getAttribute("data-copied-text"));
        }, fallback);
      } else {
        fallback();
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy-target]").forEach(setUpCopy);
  });
})();
