// With a token: choose the new password. Without: ask for a link.
import { linkToken } from "/pages/link_token.js";

const token = linkToken();
const result = document.getElementById("result");
const show = (text, isError) => { result.textContent = text; result.className = isError ? "error" : ""; };
const post = (path, body) => fetch(path, {
  method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
});
const problem = async (response) => {
  const body = await response.json();
  return (body.errors || []).map((e) => e.field + ": " + e.message).join("; ") || body.detail;
};
const form = document.getElementById(token ? "choose" : "ask");
form.hidden = false;
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (token) {
    const password = document.getElementById("password").value;
    if (password !== document.getElementById("again").value) {
      return show("The two passwords differ.", true);
    }
    const response = await post("/api/auth/reset-password", { token, new_password: password });
    if (response.ok) {
      form.hidden = true;
      return show("Your password is changed and every session signed out. Sign in with the new one.", false);
    }
    return show(await problem(response), true);
  }
  const response = await post("/api/auth/forgot-password", { email: document.getElementById("email").value });
  show(response.ok ? (await response.json()).detail : await problem(response), !response.ok);
});
