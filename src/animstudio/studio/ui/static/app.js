// The page's frame: sign-in when the server asks for a key, the navigation, one page at a time
// (chosen by the address's #fragment).

import { h, api, whenSignedOut } from "./api.js";
import { pages } from "./pages.js";
import { agentPage } from "./agent.js";

const NAV = [["jobs", "Jobs"], ["parody", "Parody"], ["narrate", "Narrate"], ["analyze", "Analyze"], ["edit", "Edit"],
  ["voices", "Voices"], ["images", "Images"], ["knowledge", "Knowledge"], ["agent", "Agent"]];
const all = { ...pages, agent: agentPage };
const main = document.querySelector("main");
let leave = null;

function signIn(message) {
  if (leave) { leave(); leave = null; }
  document.body.dataset.signedIn = "false";
  const key = h("input", { type: "password", name: "key", id: "key", autocomplete: "current-password", required: true });
  const error = h("p", { class: "note error", role: "alert" }, message || "");
  const form = h("form", { id: "login", class: "schema-form" }, h("h1", {}, "Sign in"),
    h("p", {}, "This studio asks for an API key."), h("label", { for: "key" }, "API key"), key,
    h("button", { type: "submit" }, "Sign in"), error);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    try {
      await api("/ui/session", { method: "POST", body: { key: key.value }, signingIn: true });
      document.body.dataset.signedIn = "true";
      show();
    } catch (err) {
      error.textContent = err.message;
    }
  });
  main.replaceChildren(form);
  key.focus();
}

async function show() {
  const name = (location.hash.replace(/^#\/?/, "") || "jobs").split("?")[0];
  const page = all[name] || all.jobs;
  document.querySelectorAll("nav a").forEach((a) => a.classList.toggle("active", a.dataset.page === name));
  if (leave) { leave(); leave = null; }
  main.replaceChildren();
  main.dataset.page = name;
  try {
    leave = (await page(main)) || null;
  } catch (err) {
    if (err.status !== 401) main.append(h("p", { class: "note error", role: "alert" }, err.message));
  }
}

async function start() {
  document.querySelector("nav").append(...NAV.map(([page, title]) => h("a", { href: `#/${page}`, "data-page": page },
    title)));
  whenSignedOut(() => signIn("Your key was refused or has expired; sign in again."));
  window.addEventListener("hashchange", () => document.body.dataset.signedIn === "true" && show());
  const session = await api("/ui/session");
  if (session.key_required && !session.signed_in) { signIn(); return; }
  document.body.dataset.signedIn = "true";
  await show();
}

start();
