// The token is sent only when the person clicks: mail scanners that open links use no link.
import { linkToken } from "/pages/link_token.js";

const token = linkToken();
const button = document.getElementById("confirm");
const result = document.getElementById("result");
if (!token) {
  button.disabled = true;
  result.textContent = "This link has no token; open the link from the email again.";
  result.className = "error";
}
button.addEventListener("click", async () => {
  button.disabled = true;
  const response = await fetch("/api/auth/verify-email", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token }),
  });
  const body = await response.json();
  if (response.ok) {
    result.textContent = body.email + " is confirmed. ";
    const next = document.createElement("a");
    next.href = "/#/new";
    next.textContent = "Upload your first video";
    result.append(next);
    result.className = "";
  } else {
    result.textContent = body.detail;
    result.className = "error";
  }
});
