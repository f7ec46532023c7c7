// Postfix's mynetworks as a matcher, so the filter and the policy service agree with Postfix on
// who is inside: the same list, rendered by the same function.
import { BlockList, isIP } from 'node:net';

export function networkMatcher(networks: string[]): (address: string) => boolean {
  const list = new BlockList();
  for (const network of networks) {
    const [base, bits] = network.replace(/^\[|\](?=\/|$)/g, '').split('/');
    const family = isIP(base ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (!base || isIP(base) === 0) continue;
    if (bits === undefined) list.addAddress(base, family);
    else list.addSubnet(base, Number(bits), family);
  }
  return (address) => {
    const bare = address.replace(/^IPv6:/i, '').replace(/^::ffff:(?=\d+\.)/i, '');
    const family = isIP(bare);
    return family !== 0 && list.check(bare, family === 6 ? 'ipv6' : 'ipv4');
  };
}
