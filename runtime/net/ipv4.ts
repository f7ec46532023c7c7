// IPv4 addresses as 32-bit numbers, for masks and subnets (the address already checked as IPv4).
export function ipv4ToInt(address: string): number {
  return address.split('.').reduce((acc, octet) => (acc << 8) + Number(octet), 0) >>> 0;
}

export function intToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 255).join('.');
}
