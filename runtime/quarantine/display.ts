// Text taken from a quarantined message (subject, sender, names) as the viewer and the digests show
// it: no control characters and no direction controls, which would let "‮fdp.exe" read as "exe.pdf"
// or make a sender look like someone else.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g;

export function displayText(value: string, maxLength = Infinity): string {
  return value.replace(UNSAFE, ' ').slice(0, maxLength);
}

/** The subject as shown: "(no subject)" when there is none (or no message). */
export function subjectShown(entry: { subject: string } | undefined): string {
  return entry?.subject || '(no subject)';
}

/** The envelope sender as shown: "<>" for the null sender of bounces. */
export function envelopeSenderShown(mailFrom: string): string {
  return mailFrom || '<>';
}

/** Who a message is from as shown: the From: header, else the envelope sender. */
export function senderShown(entry: { headerFrom: string; mailFrom: string }): string {
  return entry.headerFrom || envelopeSenderShown(entry.mailFrom);
}
