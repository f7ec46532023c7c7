// A typed SMTP answer. Anything thrown while handling a message becomes one of these in one place
// (listen.ts); an error that is not one becomes a 451, so the sender's MTA keeps the message.
export class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SmtpReply';
  }

  get temporary(): boolean {
    return this.responseCode >= 400 && this.responseCode < 500;
  }

  override toString(): string {
    return `${this.responseCode} ${this.message}`;
  }
}

export function tempFail(enhanced: string, why: string): SmtpReply {
  return new SmtpReply(451, `${enhanced} ${why}, try again later`);
}
