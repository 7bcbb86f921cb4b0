// Swagger UI for /api/docs/, started from a file because the CSP forbids inline scripts.
(function () {
  var el = document.getElementById("swagger-ui");
  var csrf = document.cookie.split("; ").find(function (c) { return c.indexOf("csrftoken=") === 0; });
  window.ui = SwaggerUIBundle({
    url: el.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    requestInterceptor: function (req) {
      if (csrf) req.headers["X-CSRFToken"] = csrf.split("=")[1];
      return req;
    },
  });
})();
