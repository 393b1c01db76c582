// Live campaign progress: while the campaign runs (scheduled, active or paused), reads its live.json every 2 s
// and updates the progress bar, the figures and the status, and shows only the actions the new
// status allows. Stops once the campaign is finished. The page is complete without it (the
// figures are rendered on the server; reloading refreshes them).
(function () {
  "use strict";
  var root = document.querySelector("[data-campaign-live]");
  if (!root || !window.fetch) return;

  var INTERVAL_MS = 2000;
  // The success count comes from call analysis, which lags the calls; reading it on every fifth
  // poll spares the organization's API rate limit (the dashboard's reads count against it).
  var SUCCESS_EVERY = 5;
  var polls = 0;
  var url = root.getAttribute("data-campaign-live");
  var progress = root.querySelector("progress");
  var progressText = document.getElementById(root.getAttribute("data-progress-text"));
  var announcer = document.getElementById(root.getAttribute("data-announcer"));
  var status = root.getAttribute("data-status");

  function setText(selector, text) {
    document.querySelectorAll(selector).forEach(function (el) {
      el.textContent = text;
    });
  }

  function update(live) {
    progress.max = Math.max(1, live.total);
    progress.value = live.done;
    progress.setAttribute("aria-valuetext", live.progress_text);
    if (progressText) progressText.textContent = live.progress_text;
    Object.keys(live.stats).forEach(function (key) {
      setText("[data-stat='" + key + "']", live.stats[key].toLocaleString());
    });
    if (live.status !== status) {
      status = live.status;
      setText("[data-campaign-status]", live.status_label);
      // Each action names the statuses it is offered in, as the server decided.
      document.querySelectorAll("[data-allowed-in]").forEach(function (el) {
        el.hidden = el.getAttribute("data-allowed-in").split(" ").indexOf(live.status) === -1;
      });
      if (announcer) announcer.textContent = "The campaign is now " + live.status_label + ".";
    }
  }

  function poll() {
    var withSuccess = polls % SUCCESS_EVERY === 0;
    polls += 1;
    fetch(withSuccess ? url + "?success=1" : url, { headers: { accept: "application/json" }, credentials: "same-origin" })
      .then(function (res) {
        if (res.status === 401 || res.redirected) throw new Error("Live updates stopped: your session has ended. Sign in again.");
        if (!res.ok) {
          return res.json().then(
            function (body) {
              throw new Error((body && body.error && body.error.message) || "Live updates failed (status " + res.status + ").");
            },
            function () {
              throw new Error("Live updates failed (status " + res.status + ").");
            },
          );
        }
        return res.json();
      })
      .then(function (live) {
        update(live);
        if (live.finished) {
          if (announcer) announcer.textContent = "The campaign has finished: " + live.progress_text + ".";
          return;
        }
        window.setTimeout(poll, INTERVAL_MS);
      })
      .catch(function (err) {
        if (announcer) announcer.textContent = err.message;
        // A lost connection or a failing request is retried; an ended session is not.
        if (!/session has ended/.test(err.message)) window.setTimeout(poll, INTERVAL_MS * 5);
      });
  }

  // Drafts and finished campaigns change only when someone acts on them: nothing to follow.
  if (root.getAttribute("data-live") === "true") window.setTimeout(poll, INTERVAL_MS);
})();
