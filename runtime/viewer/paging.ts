// The page number of a paged list from ?page=: a whole number from 1 to the last page, whatever was
// typed (1e20, -3, "x"), so an offset never leaves the range SQLite takes.
export function pageNumber(param: string | undefined, total: number, pageSize: number): number {
  const last = Math.max(1, Math.ceil(total / pageSize));
  const asked = Math.floor(Number(param));
  return Number.isFinite(asked) ? Math.min(Math.max(1, asked), last) : 1;
}
