// Why check_host() ended without a match: its result (RFC 7208 2.6) and the words mailauth adds to
// the comment after a colon ('' for none).
export type SpfErrorResult = 'none' | 'permerror' | 'temperror';

export class SpfProblem extends Error {
  constructor(
    readonly result: SpfErrorResult,
    readonly text = '',
  ) {
    super(text || result);
  }
}
