// Files sent to the API with a progress bar and a Cancel button (uploads and replacements).

import { ApiError, token } from "../api.js";

// A file sent with progress that can be cancelled: {done (a promise), abort()}. fetch() cannot
// report upload progress, so this uses XMLHttpRequest; an aborted send rejects with an AbortError.
export function sendFile(path, form, { method = "POST", onProgress = () => {} } = {}) {
  const request = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    request.open(method, "/api/v1" + path);
    request.setRequestHeader("Accept", "application/json");
    if (token()) request.setRequestHeader("Authorization", `Bearer ${token()}`);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch { /* not JSON */ }
      if (request.status >= 200 && request.status < 300) resolve(body);
      else if (body && body.error) reject(new ApiError(request.status, body.error.code, body.error.message, body.error.details));
      else reject(new ApiError(request.status, "http_" + request.status, `The server answered ${request.status}.`));
    };
    request.onabort = () => reject(new DOMException("The upload was cancelled.", "AbortError"));
    request.onerror = () => reject(new ApiError(0, "network_error", "The upload was interrupted. Check your connection and try again."));
    request.send(form);
  });
  return { done, abort: () => request.abort() };
}
