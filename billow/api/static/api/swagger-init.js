// Starts Swagger UI on the schema named by #swagger-ui[data-schema-url]; sends the CSRF cookie
// so "Try it out" works with a signed-in session.
(function () {
  var node = document.getElementById("swagger-ui");
  var csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1];
  window.ui = SwaggerUIBundle({
    url: node.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    requestInterceptor: function (req) {
      if (csrf) { req.headers["X-CSRFToken"] = decodeURIComponent(csrf); }
      return req;
    },
  });
})();
