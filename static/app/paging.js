// Lists read a page at a time over the API's keyset cursors, behind a "Load more" button: the
// store's search results, the admin lists, the studio's earnings ledger.

import { busy } from "./ui.js";

// `load(cursor)` answers a page, {items, next_cursor} (the cursor is null for the first page);
// `show(items, first)` draws its items (when `first`, in place of those shown); `fail(error)`
// says why a page did not come. `more` is the button for the next page: hidden while there is
// none, and disabled while a page loads. Answers {reload(), add(page), hasMore()}: reload()
// loads the first page again, add(page) shows a first page loaded elsewhere.
export function keysetPages({ load, show, fail, more }) {
  let cursor = null;
  const add = (page, first = true) => {
    cursor = page.next_cursor;
    show(page.items, first);
    more.hidden = !cursor;
  };
  const turn = (first) => busy(more, async () => {
    try {
      add(await load(first ? null : cursor), first);
    } catch (error) {
      fail(error);
    }
  });
  more.addEventListener("click", () => turn(false));
  return { reload: () => turn(true), add, hasMore: () => Boolean(cursor) };
}
