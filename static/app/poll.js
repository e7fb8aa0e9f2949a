// Checking again until something is ready: a payment confirmed, a preview rendered, a
// license's files made. Every page that waits on the server waits through poll().

// Calls `task` every `seconds` until it answers true or the returned stop() is called. A task
// that throws is tried again on the next tick (a dropped connection is not the end); a task
// that must stop on an error catches it and answers true.
// With `backoff`, each wait is that many times longer than the last, up to `longest` seconds.
// After `most` tries, none of them done, onGiveUp() is called and the checks end.
export function poll(task, seconds, { backoff = 1, longest = seconds, most = Infinity, onGiveUp = () => {} } = {}) {
  let timer = null;
  let stopped = false;
  let wait = seconds;
  let tries = 0;
  const next = () => {
    if (tries >= most) onGiveUp();
    else timer = setTimeout(tick, wait * 1000);
  };
  const tick = async () => {
    if (stopped) return;
    tries += 1;
    let done = false;
    try { done = await task(); } catch { /* tried again on the next tick */ }
    wait = Math.min(wait * backoff, Math.max(longest, seconds));
    if (!done && !stopped) next();
  };
  next();
  return () => { stopped = true; clearTimeout(timer); };
}
