/* Agency pickers of the plan pages: a filter box above each <select data-agency-picker>
   that hides the options whose name does not contain what was typed, ignoring case and
   Vietnamese diacritics ("so thong tin" finds "Sở Thông tin và Truyền thông"). The options
   come from the server already in Vietnamese order; without JavaScript the select works
   as it is. No inline handlers. */
(function () {
  "use strict";

  function fold(text) {
    return text
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .replace(/đ/g, "d")
      .replace(/Đ/g, "D")
      .toLowerCase()
      .replace(/\s+/g, " ")
      .trim();
  }

  var counter = 0;

  function setUp(select) {
    counter += 1;
    var input = document.createElement("input");
    input.type = "search";
    input.className = "form-control form-control-sm agency-filter";
    input.id = (select.id || "agency-picker-" + counter) + "_filter";
    input.placeholder = select.getAttribute("data-filter-placeholder") || "";
    input.setAttribute("aria-label", select.getAttribute("data-filter-label") || "");
    input.setAttribute("aria-controls", select.id);
    input.autocomplete = "off";
    var options = Array.prototype.slice.call(select.options).map(function (option) {
      return { option: option, text: fold(option.text) };
    });
    input.addEventListener("input", function () {
      var words = fold(input.value).split(" ").filter(Boolean);
      options.forEach(function (item) {
        var empty = item.option.value === "";
        var match = words.every(function (word) {
          return item.text.indexOf(word) !== -1;
        });
        // The chosen options and the empty choice stay visible.
        item.option.hidden = !(empty || item.option.selected || match);
      });
    });
    // Enter in the filter box must not submit the form.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
      }
    });
    select.parentNode.insertBefore(input, select);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-agency-picker]").forEach(setUp);
  });
})();
