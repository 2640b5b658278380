// Mounts one knowledge page until the console shell (branch console-insights) imports them.
import { makeApi } from "./dom.js";

const form = document.getElementById("dev-login");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const token = document.getElementById("dev-token").value.trim();
  const page = document.getElementById("dev-page").value;
  const module = await import(`./${page}.js`);
  module.mount(document.getElementById("dev-main"), makeApi(() => token));
});
