// The final server in tests: the same sink `mailfilter start` uses.
export { startSink, type Sink, type SunkMessage } from '../../runtime/local/sink.js';
