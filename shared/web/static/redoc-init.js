// Starts Redoc on this service's OpenAPI document (kept out of the page: the CSP allows no
// inline script).
"use strict";
(function () {
  var root = document.getElementById("redoc");
  window.Redoc.init(root.getAttribute("data-spec"), { hideDownloadButton: false }, root);
})();
