// The API docs page: its button loads Swagger UI (style and script) and starts it on the spec,
// in place of the plain list of operations. #console in the address opens it at once.
const reference = document.getElementById("reference");
const button = document.getElementById("open-console");

function load(tag, attributes) {
  return new Promise((resolve, reject) => {
    const element = Object.assign(document.createElement(tag), attributes);
    element.addEventListener("load", resolve);
    element.addEventListener("error", () => reject(new Error(`Could not load ${attributes.src || attributes.href}`)));
    document.head.append(element);
  });
}

async function openConsole() {
  button.disabled = true;
  button.textContent = "Loading the console…";
  try {
    await Promise.all([
      load("link", { rel: "stylesheet", href: reference.dataset.consoleStyle }),
      load("script", { src: reference.dataset.consoleScript }),
    ]);
  } catch (error) {
    button.disabled = false;
    button.textContent = "Open the interactive console (try again)";
    return;
  }
  document.getElementById("operations").hidden = true;
  button.hidden = true;
  window.ui = window.SwaggerUIBundle({ url: reference.dataset.specUrl, dom_id: "#swagger-ui-container" });
  if (location.hash !== "#console") history.replaceState(null, "", "#console");
}

button.addEventListener("click", openConsole);
if (location.hash === "#console") openConsole();
