// CSV import with a progress bar. The form works without this script (a plain multipart post
// that renders the result); with it, the file goes up through XMLHttpRequest so the bar can
// follow the upload, then the regions the server re-rendered (the result with its row errors,
// the contacts table) are swapped into this page. The import itself runs in that one request,
// so after the upload the bar turns indeterminate until the answer arrives.
(function () {
  "use strict";
  var form = document.querySelector("form[data-csv-upload]");
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.DOMParser) return;

  var progress = document.getElementById(form.getAttribute("data-progress"));
  var status = document.getElementById(form.getAttribute("data-status"));
  var regions = (form.getAttribute("data-replace") || "").split(" ").filter(Boolean);
  var button = form.querySelector("button[type=submit]");

  function say(text) {
    status.textContent = text;
  }

  function finish() {
    button.disabled = false;
    progress.hidden = true;
  }

  // Copies each named region of the server's page into this one; returns how many were found.
  function swapRegions(doc) {
    var found = 0;
    regions.forEach(function (id) {
      var fresh = doc.getElementById(id);
      var current = document.getElementById(id);
      if (!fresh || !current) return;
      current.replaceWith(document.importNode(fresh, true));
      found += 1;
    });
    return found;
  }

  function firstErrorText(doc) {
    var box = doc.querySelector(".error-box");
    return box ? box.textContent.replace(/\s+/g, " ").trim() : "";
  }

  form.addEventListener("submit", function (event) {
    var file = form.querySelector("input[type=file]");
    if (!file || !file.files || file.files.length === 0) return; // let the browser say the field is required
    event.preventDefault();

    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.responseType = "document";
    button.disabled = true;
    progress.hidden = false;
    progress.max = 100;
    progress.value = 0;
    say("Uploading " + file.files[0].name + "…");

    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.round((e.loaded / e.total) * 100);
      progress.value = percent;
      progress.setAttribute("aria-valuetext", percent + "% uploaded");
      say("Uploading… " + percent + "%");
    });
    xhr.upload.addEventListener("load", function () {
      // No value makes the bar indeterminate: the server is reading the rows now.
      progress.removeAttribute("value");
      progress.setAttribute("aria-valuetext", "Importing");
      say("Upload complete. Importing the rows…");
    });
    xhr.addEventListener("load", function () {
      finish();
      var doc = xhr.response;
      if (xhr.responseURL && new URL(xhr.responseURL).pathname === "/app/sign-in") {
        say("Your session has ended. Sign in again, then upload the file again.");
        return;
      }
      if (!doc || swapRegions(doc) === 0) {
        say(firstErrorText(doc) || "The import did not complete (the server answered " + xhr.status + "). Try again.");
        return;
      }
      if (xhr.status < 400) {
        say("Import finished.");
        form.reset();
      } else {
        say("The import was refused; see the message below.");
      }
      var heading = document.querySelector("#" + regions[0] + " [tabindex='-1']");
      if (heading) heading.focus();
    });
    xhr.addEventListener("error", function () {
      finish();
      say("The upload failed: the connection was lost. Check your network and try again.");
    });
    xhr.send(new FormData(form));
  });
})();
