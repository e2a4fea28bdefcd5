// Sends a source to storage the way the API asks: one PUT for a small file, parts for a large
// one (several at once, a failed part retried with fresh URLs). A multipart upload survives a
// reload or a closed tab: the job it belongs to is remembered in localStorage, and choosing the
// same file again picks up from the parts storage already holds.

import { api, putWithProgress } from "./api.js";

const STORAGE_KEY = "reframer.unfinished_upload";
const PARALLEL_PARTS = 4;
const ATTEMPTS_PER_PART = 4;
const RETRY_BASE_MS = 500;
const SPEED_WINDOW_MS = 8000; // speed and time left over the last few seconds, not since start

// A file is the same file if its name, size and modification time are.
export function fingerprint(file) {
  return `${file.name}|${file.size}|${file.lastModified}`;
}

export const unfinishedUpload = {
  get(accountId) {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY));
      return saved && saved.account === accountId ? saved : null;
    } catch { return null; }
  },
  save(state) { localStorage.setItem(STORAGE_KEY, JSON.stringify(state)); },
  clear() { localStorage.removeItem(STORAGE_KEY); },
};

// Bytes sent so far -> share, speed and time left, for one progress bar over all parts.
class Progress {
  constructor(total, alreadySent, report) {
    this.total = total;
    this.settled = alreadySent; // parts finished (or found on storage)
    this.inFlight = new Map(); // part number -> bytes of it sent
    this.samples = [[performance.now(), alreadySent]];
    this.report = report;
    this.emit();
  }

  sending(part, loaded) { this.inFlight.set(part, loaded); this.emit(); }

  finished(part, size) { this.inFlight.delete(part); this.settled += size; this.emit(); }

  failed(part) { this.inFlight.delete(part); this.emit(); }

  emit() {
    let sent = this.settled;
    for (const loaded of this.inFlight.values()) sent += loaded;
    const now = performance.now();
    this.samples.push([now, sent]);
    while (this.samples.length > 2 && now - this.samples[1][0] > SPEED_WINDOW_MS) this.samples.shift();
    const [then, sentThen] = this.samples[0];
    const seconds = (now - then) / 1000;
    const speed = seconds > 0.5 ? (sent - sentThen) / seconds : null;
    const left = speed ? (this.total - sent) / speed : null;
    this.report({ share: this.total ? sent / this.total : 1, speed, secondsLeft: left });
  }
}

function sleep(ms) { return new Promise((resolve) => { setTimeout(resolve, ms); }); }

function putPart(part, blob, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", part.url);
    // Content-Length is signed too, but the browser sets it from the blob itself.
    for (const [name, value] of Object.entries(part.headers || {})) {
      if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
    }
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    xhr.onload = () => (xhr.status >= 200 && xhr.status < 300
      ? resolve(xhr.getResponseHeader("ETag"))
      : reject(new Error(`storage answered ${xhr.status}`)));
    xhr.onerror = () => reject(new Error("storage could not be reached"));
    xhr.send(blob);
  });
}

// Uploads the parts storage does not hold yet, then completes the upload with their ETags.
async function sendParts(jobId, file, layout, report) {
  const { part_size_bytes: partSize, part_count: count } = layout;
  const sizeOf = (n) => (n < count ? partSize : file.size - partSize * (count - 1));
  const etags = new Map(layout.uploaded.map((p) => [p.part_number, p.etag]));
  const urls = new Map((layout.parts || []).map((p) => [p.part_number, p]));
  const queue = [];
  for (let n = 1; n <= count; n += 1) if (!etags.has(n)) queue.push(n);
  const already = [...etags.keys()].reduce((sum, n) => sum + sizeOf(n), 0);
  const progress = new Progress(file.size, already, report);
  let renewing = null;

  // URLs for this part and the next few waiting, in one request.
  async function urlFor(n, stale) {
    if (stale) urls.delete(n);
    while (!urls.has(n)) {
      if (!renewing) {
        const wanted = [n, ...queue.filter((m) => !urls.has(m))].slice(0, 50);
        renewing = api("POST", `/api/jobs/${jobId}/upload/part-urls`, { part_numbers: wanted })
          .then((answer) => { for (const p of answer.parts) urls.set(p.part_number, p); })
          .finally(() => { renewing = null; });
      }
      await renewing;
    }
    return urls.get(n);
  }

  async function send(n) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const part = await urlFor(n, attempt > 1); // a failed URL may have expired: renew it
        const blob = file.slice((n - 1) * partSize, (n - 1) * partSize + sizeOf(n));
        const etag = await putPart(part, blob, (loaded) => progress.sending(n, loaded));
        progress.finished(n, sizeOf(n));
        return etag;
      } catch (error) {
        progress.failed(n);
        if (attempt >= ATTEMPTS_PER_PART) throw new Error(`part ${n} of ${count} failed: ${error.message}`);
        await sleep(RETRY_BASE_MS * 2 ** (attempt - 1));
      }
    }
  }

  let stop = null;
  async function worker() {
    while (queue.length && !stop) {
      const n = queue.shift();
      try { etags.set(n, await send(n)); } catch (error) { stop = error; }
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, queue.length) }, worker));
  if (stop) throw stop;

  // Storage's CORS may hide ETag headers: then the listing says what each part holds.
  if ([...etags.values()].some((etag) => !etag)) {
    const listed = await api("GET", `/api/jobs/${jobId}/upload`);
    for (const p of listed.parts) etags.set(p.part_number, p.etag);
  }
  const parts = [...etags].sort(([a], [b]) => a - b).map(([n, etag]) => ({ part_number: n, etag }));
  await api("POST", `/api/jobs/${jobId}/upload/complete`, { parts });
}

// A new job's upload. `created` is the create's answer; `remember` is stored for a resume.
export async function uploadSource(created, file, report, remember) {
  const { upload, job } = created;
  if (upload.method !== "multipart") {
    await putWithProgress(upload, file, (share) => report({ share, speed: null, secondsLeft: null }));
    return;
  }
  unfinishedUpload.save({ ...remember, job: job.id, file: fingerprint(file), name: file.name, size: file.size });
  await sendParts(job.id, file, { ...upload, uploaded: [] }, report);
}

// Picks an interrupted upload up; false if it cannot be (aborted, expired, confirmed).
export async function resumeSource(jobId, file, report) {
  let state;
  try { state = await api("GET", `/api/jobs/${jobId}/upload`); } catch { return false; }
  if (state.state === "completed") return true;
  if (state.state !== "open") return false;
  const good = state.parts.filter((p) => !state.missing_parts.includes(p.part_number));
  await sendParts(jobId, file, { ...state, parts: [], uploaded: good }, report);
  return true;
}
