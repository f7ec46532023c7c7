// A real spamd on a loopback port: the same starter `mailfilter start` uses.
export { startSpamd, type Spamd } from '../../runtime/local/spamd.js';
