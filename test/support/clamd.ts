// A real clamd on a private socket with the repo's small signature database (freshclam cannot
// reach the internet here): the same starter `mailfilter start` uses.
export { startClamd, TEST_SIGNATURES, type Clamd } from '../../runtime/local/clamd.js';
