// What the allowed-networks answer ('host', 'subnet' or a list) means as networks, for the review
// screen and the open-relay warning: the same networks Postfix's mynetworks gets, loopback aside.
import type { Answers } from './answers.js';
import { subnetOf } from '../runtime/render/template-values.js';
import { wideNetworks } from './validate.js';

export function effectiveNetworks(a: Answers): string[] {
  const [first] = a.allowedNetworks;
  const known = !a.dhcp && a.address !== '' && a.netmask !== '';
  if (first === 'host') return known ? [`${a.address}/32`] : [];
  if (first === 'subnet') return known ? [subnetOf(a.address, a.netmask)] : [];
  return a.allowedNetworks;
}

/** For the review: "192.168.100.0/24 (subnet)", "this appliance only (host)". */
export function describeNetworks(a: Answers): string {
  const networks = effectiveNetworks(a);
  const [first] = a.allowedNetworks;
  if (first === 'host') return networks.length ? `${networks[0]} (host: this appliance only)` : 'this appliance only (host)';
  if (first === 'subnet') return `${networks.join(', ') || 'unknown with DHCP'} (subnet)`;
  return networks.join(', ');
}

export function wideAllowedNetworks(a: Answers): string[] {
  return wideNetworks(effectiveNetworks(a));
}

/** The final server named as the appliance itself (its address, its name, loopback): a mail loop. */
export function isThisAppliance(server: string, a: Answers): boolean {
  const name = server.trim().toLowerCase().replace(/\.$/, '');
  const own = [a.hostname.toLowerCase(), a.hostname.split('.')[0]!.toLowerCase(), 'localhost'].filter(Boolean);
  if (!a.dhcp && a.address) own.push(a.address);
  return own.includes(name) || /^(127\.|0\.0\.0\.0$)/.test(name);
}
