// Analytics in the viewer's own time zone: fills the form's hidden `tz` field from the browser,
// and on a first visit (no tz in the address) reloads once with it, so days start at local
// midnight. Without this script the page uses UTC and says so.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  var url = new URL(window.location.href);
  // A zone in the address was chosen (or shared) on purpose: keep it.
  if (!zone || url.searchParams.has("tz")) return;
  document.querySelectorAll("input[type=hidden][name=tz]").forEach(function (field) {
    field.value = zone;
  });
  if (zone !== "UTC") {
    url.searchParams.set("tz", zone);
    window.location.replace(url.toString());
  }
})();
