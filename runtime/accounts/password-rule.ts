// The shortest password a person may choose: for viewer accounts, and for root's on the console
// (the login hook, overlay/etc/profile.d/zz-mailfilter-firstboot.sh, is shell and repeats the
// number; a test holds the two equal).
export const PASSWORD_MIN_LENGTH = 10;

/** The rule in words, for labels and refusals: "at least 10 characters". */
export const PASSWORD_RULE = `at least ${PASSWORD_MIN_LENGTH} characters`;

export function isLongEnough(password: string): boolean {
  return password.length >= PASSWORD_MIN_LENGTH;
}
