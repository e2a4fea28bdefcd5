// The session's tokens and the JSON API: one place that knows about bearer tokens and refresh.

export const session = {
  get access() { return sessionStorage.getItem("access_token"); },
  get refresh() { return sessionStorage.getItem("refresh_token"); },
  save(tokens) {
    sessionStorage.setItem("access_token", tokens.access_token);
    sessionStorage.setItem("refresh_token", tokens.refresh_token);
  },
  clear() { sessionStorage.clear(); },
};

export class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.problem = problem;
    this.status = status;
  }
}

async function refreshTokens() {
  if (!session.refresh) return false;
  const response = await fetch("/api/auth/refresh", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: session.refresh }),
  });
  if (!response.ok) { session.clear(); return false; }
  session.save(await response.json());
  return true;
}

export async function api(method, path, body, retried = false) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (session.access) headers.Authorization = `Bearer ${session.access}`;
  const response = await fetch(path, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && !retried && session.refresh && await refreshTokens()) {
    return api(method, path, body, true);
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(data, response.status);
  return data;
}

// A presigned storage URL: no bearer token (storage would refuse it).
export async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`could not load ${new URL(url).pathname} (${response.status})`);
  return response.json();
}

export function putWithProgress(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method || "PUT", upload.url);
    for (const [name, value] of Object.entries(upload.headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => { if (event.lengthComputable) onProgress(event.loaded / event.total); };
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300
      ? resolve() : reject(new Error(`the upload failed (storage answered ${xhr.status})`)));
    xhr.onerror = () => reject(new Error("the upload failed: storage could not be reached"));
    xhr.send(file);
  });
}
