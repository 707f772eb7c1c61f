// Entry point: who is signed in, hash routing between the list and one trajectory,
// and the global keyboard shortcuts ("/" search, "g" guidance).
import { api, onUnauthorized } from "./api.js";
import { isTyping } from "./dom.js";
import { showList } from "./list.js";
import { showLogin } from "./login.js";
import { showTrajectory } from "./trajectory.js";

const app = document.getElementById("app");
const whoami = document.getElementById("whoami");
const logout = document.getElementById("logout");
let me = null;
let view = null; // the current view's controller: {close, focusSearch?, focusGuidance?}

function closeView() {
  view?.close();
  view = null;
}

const trajectoryHash = (id) => `#/trajectories/${encodeURIComponent(id)}`;

function route() {
  if (!me) return;
  closeView();
  const match = location.hash.match(/^#\/trajectories\/(.+)$/);
  view = match
    ? showTrajectory(app, decodeURIComponent(match[1]), me)
    : showList(app, { onOpen: (id) => { location.hash = trajectoryHash(id); } });
}

async function signIn() {
  closeView();
  me = null;
  whoami.textContent = "";
  logout.hidden = true;
  await showLogin(app);
  await start();
}

async function start() {
  try {
    me = await api.me();
  } catch {
    return signIn();
  }
  whoami.textContent = `${me.name} · ${me.role}`;
  logout.hidden = false;
  route();
}

onUnauthorized(() => { if (me) signIn(); });
logout.addEventListener("click", async () => {
  await api.logout().catch(() => {});
  signIn();
});
window.addEventListener("hashchange", route);
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
  if (event.key === "/" && view?.focusSearch) {
    event.preventDefault();
    view.focusSearch();
  } else if (event.key === "g" && view?.focusGuidance) {
    event.preventDefault();
    view.focusGuidance();
  }
});

start();
