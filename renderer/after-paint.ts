/**
 * Running something once what was just drawn has been painted: at the next animation frame,
 * then in a task of its own, so that it does not delay that paint (the list's first rows after a
 * sign-in, before the sidebar and the team status are asked for). A window that paints no
 * frame (hidden) goes on after `fallbackMs` rather than waiting for one that may not come.
 * Must never be used for work the paint itself needs.
 */
export function afterNextPaint(then: () => void, fallbackMs = 250): () => void {
  let done = false;
  let task: number | undefined;
  const run = (): void => {
    if (done) return;
    done = true;
    cancelAnimationFrame(frame);
    window.clearTimeout(fallback);
    then();
  };
  const frame = requestAnimationFrame(() => {
    task = window.setTimeout(run, 0);
  });
  const fallback = window.setTimeout(run, fallbackMs);
  return () => {
    done = true;
    cancelAnimationFrame(frame);
    window.clearTimeout(task);
    window.clearTimeout(fallback);
  };
}
