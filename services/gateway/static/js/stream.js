// Server-sent events with reconnection. EventSource retries by itself after a dropped
// connection, but gives up for good when the server answers with an error status
// (a restart, an expired session); then we retry with backoff, after asking /api/me so
// that an expired session leads to the login screen instead of endless retries.
import { api } from "./api.js";

const connection = () => document.getElementById("connection");

function showState(state) {
  const badge = connection();
  badge.dataset.state = state;
  badge.textContent = state === "live" ? "live" : state;
}

/**
 * Opens `/api/stream` (optionally for one trajectory).
 * `onOpen(reconnected)` lets a view refetch what it may have missed while away.
 */
export function openStream(trajectoryId, { onEvent, onPresence, onStatus, onOpen }) {
  const url = trajectoryId
    ? `/api/stream?trajectory_id=${encodeURIComponent(trajectoryId)}`
    : "/api/stream";
  let source = null;
  let closed = false;
  let openedBefore = false;
  let failures = 0;
  let retryTimer = null;

  const parse = (message, handler) => {
    if (!handler) return;
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return; // a malformed message must not break the view
    }
    handler(data);
  };

  function connect() {
    source = new EventSource(url);
    source.addEventListener("open", () => {
      failures = 0;
      showState("live");
      onOpen?.(openedBefore);
      openedBefore = true;
    });
    source.addEventListener("apollo", (message) => parse(message, onEvent));
    source.addEventListener("presence", (message) => parse(message, onPresence));
    source.addEventListener("status", (message) => parse(message, onStatus));
    source.addEventListener("error", () => {
      if (closed) return;
      showState("reconnecting");
      if (source.readyState === EventSource.CLOSED) scheduleRetry();
    });
  }

  function scheduleRetry() {
    source.close();
    failures += 1;
    const delay = Math.min(30000, 500 * 2 ** Math.min(failures, 6));
    const retry = () => { if (!closed) retryTimer = setTimeout(connect, delay); };
    api.me().then(retry, retry);
  }

  connect();
  return {
    close() {
      closed = true;
      clearTimeout(retryTimer);
      source?.close();
      showState("offline");
    },
  };
}
