/* Intake form, progressive enhancement only: the form works fully without this file.
   - shows a question only when the earlier answer it depends on is given (the server applies
     the same rule, so hiding here is a convenience, not a safeguard);
   - moves focus to the "not sent" notice or the error summary;
   - disables the button after the first press (the server also ignores resubmissions). */
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) return;
  document.documentElement.classList.add("js");

  function answerMatches(name, value) {
    var inputs = form.querySelectorAll('[name="' + name + '"]');
    for (var i = 0; i < inputs.length; i++) {
      var input = inputs[i];
      if ((input.type === "radio" || input.type === "checkbox") ? input.checked && input.value === value
          : input.value === value) {
        return !isHidden(input);
      }
    }
    return false;
  }

  function isHidden(element) {
    var wrap = element.closest(".question");
    return wrap ? wrap.hidden : false;
  }

  function update() {
    // Conditions only point backwards, so one pass in page order settles chains.
    var dependants = form.querySelectorAll("[data-shown-if]");
    for (var i = 0; i < dependants.length; i++) {
      var wrap = dependants[i];
      var show = answerMatches(wrap.getAttribute("data-shown-if"), wrap.getAttribute("data-shown-value"));
      wrap.hidden = !show;
    }
  }

  form.addEventListener("change", update);
  update();

  // The notice that the form was not sent (rate limit) comes first, then the error list.
  var summary = document.getElementById("rate-limited") || document.getElementById("error-summary");
  if (summary) summary.focus();

  var button = form.querySelector("button.submit");
  if (!button) return;
  var idleText = button.textContent;
  form.addEventListener("submit", function () {
    // Let this submission go, then block repeats while the page is loading.
    window.setTimeout(function () {
      button.disabled = true;
      button.textContent = button.getAttribute("data-sending-text") || idleText;
    }, 0);
  });
  // Coming back with the browser's back button (the page may be restored as it was left, mid
  // "Sending…") must give a usable button with its own label again.
  window.addEventListener("pageshow", function () {
    button.disabled = false;
    button.textContent = idleText;
  });
})();
