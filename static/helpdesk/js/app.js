// Tell the server the operator's time zone, so that times render in it on the next request.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone && document.cookie.indexOf("operator_tz=" + zone) === -1) {
    document.cookie = "operator_tz=" + encodeURIComponent(zone) + "; path=/; SameSite=Lax";
  }
})();
