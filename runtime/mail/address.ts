// An e-mail address as typed into the wizard, the viewer or a config file: a local part, @, and a
// domain with a dot; no spaces and no angle brackets, which would end the address in a header.
export const EMAIL_ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export function isEmailAddress(value: string): boolean {
  return EMAIL_ADDRESS.test(value);
}
