// The login screen: trades an API token for the session cookie.
import { api } from "./api.js";
import { fromTemplate } from "./dom.js";

/** Shows the login form in `container`; resolves once the session cookie is set. */
export function showLogin(container) {
  const form = fromTemplate("tpl-login");
  container.replaceChildren(form);
  form.elements.token.focus();
  const error = form.querySelector(".form-error");
  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.textContent = "";
      try {
        await api.login(form.elements.token.value.trim());
        resolve();
      } catch (failure) {
        error.textContent = failure.status === 401 || failure.status === 403
          ? "That token is not valid." : `Sign-in failed: ${failure.message}`;
        form.elements.token.select();
      }
    });
  });
}
