// The parts of an Authentication-Results row (RFC 8601) written the way mailauth writes them, so the
// rows our own DKIM verifier and the SPF memory make read like the ones mailauth makes.

/** Control characters and runs of white space become one space, as in a folded header. */
const oneLine = (value: string) =>
  value
    .replace(/[\x00-\x1f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

/** A comment's text: its closing parenthesis and backslashes escaped. */
export const commentValue = (value: string) => oneLine(value).replace(/[\\)]/g, (c) => `\\${c}`);

/** A property value (pvalue): a token as it is, anything with a MIME special quoted ('@' is allowed bare in pvalue). */
export function propValue(value: string): string {
  const flat = oneLine(value);
  return /[\s\x00-\x1f\x7f-\uffff()<>,;:\\"/[\]?=]/.test(flat) ? `"${flat.replace(/["\\]/g, (c) => `\\${c}`)}"` : flat;
}

/** The row mailauth writes for an SPF result: result, comment, smtp.mailfrom, smtp.helo. */
export function spfRow(result: string, comment: string | undefined, sender: string, helo: string): string {
  return [
    `spf=${result}`,
    ...(comment ? [`(${commentValue(comment)})`] : []),
    `smtp.mailfrom=${propValue(sender)}`,
    ...(helo ? [`smtp.helo=${propValue(helo)}`] : []),
  ].join(' ');
}
