// The message list's address bar: filter, date range, order and page size, each validated (a bad
// value means its default, never an error), and the links that keep them from page to page.
import { CATEGORIES, type Category } from '../config/schema.js';
import { SORT_KEYS, type ListQuery, type ListSort, type SortKey } from '../quarantine/store.js';
import { nextDay, parseDay } from './format.js';

export const PAGE_SIZES = [25, 50, 100, 200] as const;
const DEFAULT_PAGE_SIZE = 50;

export interface ListState {
  /** The administrator looking at one user's messages (their id, as typed). */
  user?: string;
  search: string;
  reason?: Category;
  /** YYYY-MM-DD, both ends included; empty when not given or not a date. */
  since: string;
  until: string;
  sort: ListSort;
  pageSize: number;
  /** ?select=all: every checkbox on the page ticked (there is no script to do it). */
  selectAll: boolean;
}

/** Numbers and text go first in the order people expect of them. */
const FIRST_DESCENDING: SortKey[] = ['date', 'score', 'size'];

/** Any number is taken, held between 10 and 200, so nobody asks SQLite for a billion rows. */
export function pageSizeOf(param: string | undefined): number {
  const asked = Math.floor(Number(param));
  return Number.isFinite(asked) && param ? Math.min(PAGE_SIZES.at(-1)!, Math.max(10, asked)) : DEFAULT_PAGE_SIZE;
}

export function parseListState(query: (name: string) => string | undefined): ListState {
  const reason = query('reason') ?? '';
  const sortBy = (SORT_KEYS as readonly string[]).includes(query('sort') ?? '') ? (query('sort') as SortKey) : 'date';
  const direction = query('dir');
  const day = (name: string) => (parseDay(query(name)) !== undefined ? query(name)! : '');
  return {
    user: query('user') || undefined,
    search: (query('q') ?? '').slice(0, 200),
    reason: (CATEGORIES as readonly string[]).includes(reason) ? (reason as Category) : undefined,
    since: day('since'),
    until: day('until'),
    sort: { by: sortBy, descending: direction === 'asc' ? false : direction === 'desc' ? true : FIRST_DESCENDING.includes(sortBy) },
    pageSize: pageSizeOf(query('size')),
    selectAll: query('select') === 'all',
  };
}

/** The store's query for this state (without whose messages, and without the page). */
export function storeQueryOf(state: ListState): Omit<ListQuery, 'addresses' | 'limit' | 'offset'> {
  const until = parseDay(state.until);
  return {
    search: state.search || undefined,
    reason: state.reason,
    receivedFrom: parseDay(state.since),
    receivedBefore: until === undefined ? undefined : nextDay(until),
    sort: state.sort,
  };
}

export const isFiltered = (state: ListState) => Boolean(state.search || state.reason || state.since || state.until);

/** The list's address with this state, changed as given; defaults are left out to keep it short. */
export function listUrl(state: ListState, change: { page?: number; sort?: ListSort; selectAll?: boolean } = {}): string {
  const sort = change.sort ?? state.sort;
  const params = new URLSearchParams();
  if (state.user) params.set('user', state.user);
  if (state.search) params.set('q', state.search);
  if (state.reason) params.set('reason', state.reason);
  if (state.since) params.set('since', state.since);
  if (state.until) params.set('until', state.until);
  if (sort.by !== 'date' || !sort.descending) {
    params.set('sort', sort.by);
    params.set('dir', sort.descending ? 'desc' : 'asc');
  }
  if (state.pageSize !== DEFAULT_PAGE_SIZE) params.set('size', String(state.pageSize));
  if (change.page && change.page > 1) params.set('page', String(change.page));
  if (change.selectAll ?? false) params.set('select', 'all');
  const text = params.toString();
  return `/viewer/messages${text ? `?${text}` : ''}`;
}

/** The order a column's heading link asks for: the other way round when it is already the order. */
export function sortFor(state: ListState, by: SortKey): ListSort {
  return state.sort.by === by ? { by, descending: !state.sort.descending } : { by, descending: FIRST_DESCENDING.includes(by) };
}
