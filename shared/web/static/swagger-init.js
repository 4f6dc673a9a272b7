// Starts Swagger UI on this service's OpenAPI document (kept out of the page: the CSP allows no
// inline script). "Authorize" takes an access token from POST /api/v1/auth/login; it stays in
// this page's memory only.
"use strict";
(function () {
  var root = document.getElementById("swagger-ui");
  window.ui = window.SwaggerUIBundle({
    url: root.getAttribute("data-spec"),
    domNode: root,
    deepLinking: true,
    tryItOutEnabled: true,
    persistAuthorization: false,
    displayRequestDuration: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
