// Starts Swagger UI on the OpenAPI document of the service that serves this page.
// It lives in its own file, not inline in index.html, so a Content-Security-Policy
// without 'unsafe-inline' can be used.
window.addEventListener("load", function () {
  // The page is /api/schema/swagger-ui/, so "../" is the schema at /api/schema/,
  // whichever role or gateway served it.
  var schemaUrl = new URL("../", window.location.href).href;

  window.ui = SwaggerUIBundle({
    url: schemaUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    displayRequestDuration: true,
    // No call to the public validator: the lab must work offline.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "BaseLayout",
  });
});
