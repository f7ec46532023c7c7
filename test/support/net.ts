// The loopback helpers live with the local servers; tests use the same ones.
export { converse, freePort, listening, waitFor } from '../../runtime/local/net.js';
