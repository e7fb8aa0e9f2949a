// Starts Swagger UI on the API docs page, with the spec address the page names.
const container = document.getElementById("swagger-ui-container");
window.ui = window.SwaggerUIBundle({ url: container.dataset.specUrl, dom_id: "#swagger-ui-container" });
