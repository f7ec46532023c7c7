// Why a container could not be decoded (corrupt, truncated, encrypted names, no decoder): the part
// is then UNCHECKED with these words, never clean.
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecodeError';
  }
}
