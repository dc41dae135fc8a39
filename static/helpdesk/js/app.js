// Tell the server the operator's time zone, so that times render in it on the next request.
(function () {
  // Zone names such as "Europe/Berlin" are valid cookie values as they are, and the server reads
  // the cookie without URL-decoding it, so the name is stored unencoded.
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && /^[A-Za-z0-9_+\/-]+$/.test(zone) && document.cookie.indexOf("operator_tz=" + zone) === -1) {
    document.cookie = "operator_tz=" + zone + "; path=/; SameSite=Lax";
  }
})();

// Search results: ArrowDown moves from the search box into the results, ArrowUp and ArrowDown
// move between them, Escape returns to the box, and Enter opens the focused result (a plain link).
(function () {
  function resultsFor(input) {
    var container = document.getElementById(input.getAttribute("aria-controls"));
    return container ? Array.prototype.slice.call(container.querySelectorAll("[data-search-result]")) : [];
  }

  function inputFor(link) {
    var inputs = document.querySelectorAll("[data-search-input]");
    for (var i = 0; i < inputs.length; i++) {
      var container = document.getElementById(inputs[i].getAttribute("aria-controls"));
      if (container && container.contains(link)) {
        return inputs[i];
      }
    }
    return null;
  }

  function select(results, index) {
    results.forEach(function (link, position) {
      link.classList.toggle("is-active", position === index);
    });
    results[index].focus();
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target.matches && target.matches("[data-search-input]")) {
      if (event.key === "ArrowDown") {
        var results = resultsFor(target);
        if (results.length) {
          event.preventDefault();
          select(results, 0);
        }
      }
      return;
    }
    if (!(target.matches && target.matches("[data-search-result]"))) {
      return;
    }
    var input = inputFor(target);
    if (!input) {
      return;
    }
    var links = resultsFor(input);
    var index = links.indexOf(target);
    if (event.key === "ArrowDown" && index < links.length - 1) {
      event.preventDefault();
      select(links, index + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      if (index > 0) {
        select(links, index - 1);
      } else {
        target.classList.remove("is-active");
        input.focus();
      }
    } else if (event.key === "Escape") {
      event.preventDefault();
      target.classList.remove("is-active");
      input.focus();
    }
  });
})();

// A region that fails to load says so, instead of keeping stale or empty content silently.
(function () {
  function showError(event, text) {
    var target = event.detail && event.detail.target;
    if (!target) {
      return;
    }
    var previous = target.querySelector(":scope > .load-error");
    if (previous) {
      previous.remove();
    }
    var message = document.createElement("p");
    message.className = "load-error";
    message.setAttribute("role", "alert");
    message.textContent = text;
    target.insertBefore(message, target.firstChild);
  }

  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr ? event.detail.xhr.status : "unknown";
    showError(event, "This section could not be loaded (HTTP " + status + "). Use the link below or reload the page.");
  });
  document.addEventListener("htmx:sendError", function (event) {
    showError(event, "The server could not be reached. Check the connection and reload the page.");
  });
})();

// A plain form that runs a quick action waits for the platform before the next page loads.
// Disable its submit button and show its "Running…" indicator, as hx-disabled-elt does for the
// htmx version of the form, so the operator sees progress and cannot submit twice.
(function () {
  function submitButtons(form) {
    return Array.prototype.slice.call(form.querySelectorAll("button[type='submit']"));
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    // htmx cancels the native submit of the forms it sends itself.
    if (event.defaultPrevented || !form.matches("form[data-disable-on-submit]")) {
      return;
    }
    form.classList.add("is-submitting");
    submitButtons(form).forEach(function (button) {
      button.disabled = true;
    });
  });

  // Back from the next page may show this page from the back-forward cache, still disabled.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) {
      return;
    }
    document.querySelectorAll("form.is-submitting").forEach(function (form) {
      form.classList.remove("is-submitting");
      submitButtons(form).forEach(function (button) {
        button.disabled = false;
      });
    });
  });
})();
