// Cursor pagination shared by every list: newest first, `after`/`before` cursors, `page_size`.

export const DEFAULT_PAGE_SIZE = 10;
export const MAX_PAGE_SIZE = 100;

export interface PageRequest {
  pageSize: number;
  after?: string | undefined;
  before?: string | undefined;
}

export interface ListMetadata {
  /** Pass as `before` for the previous (newer) page; null on the first page. */
  before: string | null;
  /** Pass as `after` for the next (older) page; null on the last page. */
  after: string | null;
}

/** Whether rows are read forwards (newest first, older than `after`) or back (`before`). */
export function readsBackwards(page: PageRequest): boolean {
  return page.before !== undefined;
}

/**
 * Turns up to `pageSize + 1` rows, fetched newest first (or oldest first when paging backwards),
 * into one page, newest first, with the cursors that lead on.
 */
export function toPage<T extends { id: string }>(
  rows: T[],
  page: PageRequest,
): { items: T[]; list_metadata: ListMetadata } {
  const more = rows.length > page.pageSize;
  const kept = rows.slice(0, page.pageSize);
  if (readsBackwards(page)) {
    const items = kept.reverse();
    return {
      items,
      list_metadata: {
        before: more ? (items[0]?.id ?? null) : null,
        after: items.at(-1)?.id ?? null,
      },
    };
  }
  return {
    items: kept,
    list_metadata: {
      before: page.after !== undefined ? (kept[0]?.id ?? null) : null,
      after: more ? (kept.at(-1)?.id ?? null) : null,
    },
  };
}
