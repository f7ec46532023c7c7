// A message from elsewhere (a server's reply, an error) fit for one log or reply line: its line
// breaks and other whitespace runs become one space, and it is cut so a chatty peer cannot flood.
export function oneLine(value: string, maxLength: number): string {
  return value.replace(/\s+/g, ' ').trim().slice(0, maxLength);
}
