import 'reflect-metadata';
import { AsnConvert } from '@peculiar/asn1-schema';
import { GeneralName, GeneralSubtree, GeneralSubtrees, NameConstraints, id_ce_nameConstraints } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { BlockList, isIP } from 'node:net';
import type { ServerNames } from './certificates.js';

/**
 * The addresses a household authority may vouch for: private networks,
 * loopback and link-local, and 100.64.0.0/10 (carrier-grade NAT, also what
 * Tailscale gives each computer), which is not reachable from the internet
 * either.
 */
const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '100.64.0.0/10', 'fc00::/7', 'fe80::/10', '::1/128'];
/** Names that only mean something inside a home network (a constraint also covers every name ending in `.` + it). */
const LOCAL_NAMES = ['local', 'lan', 'home.arpa', 'localhost'];
/** A constraint is an IA5String: a host name outside plain ASCII labels cannot be one (it is still covered as `<name>.local` if it can be). */
const DNS_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/**
 * A critical Name Constraints extension (RFC 5280 4.2.1.10) for the household
 * authority: whoever takes the authority's key from this computer can make
 * certificates for private addresses and local names only, never for a bank's
 * or any other public name that computers trusting the authority would accept
 * (issue 24).
 */
export function householdNameConstraints(hostName: string): x509.Extension {
  const host = hostName.toLowerCase();
  const names = [...new Set([...LOCAL_NAMES, ...(DNS_NAME.test(host) ? [host] : [])])];
  const subtrees = [
    ...names.map((dNSName) => new GeneralSubtree({ base: new GeneralName({ dNSName }) })),
    ...PRIVATE_RANGES.map((iPAddress) => new GeneralSubtree({ base: new GeneralName({ iPAddress }) })),
  ];
  const value = AsnConvert.serialize(new NameConstraints({ permittedSubtrees: new GeneralSubtrees(subtrees) }));
  return new x509.Extension(id_ce_nameConstraints, true, value);
}

/** The permitted names and address ranges of an authority; null when it has no constraints (made before issue 24). */
function permitted(authorityPem: string): { names: string[]; addresses: BlockList } | null {
  const extension = new x509.X509Certificate(authorityPem).getExtension(id_ce_nameConstraints);
  if (!extension) return null;
  const constraints = AsnConvert.parse(extension.value, NameConstraints);
  const names: string[] = [];
  const addresses = new BlockList();
  for (const { base } of constraints.permittedSubtrees ?? []) {
    if (base.dNSName !== undefined) names.push(base.dNSName.toLowerCase());
    if (base.iPAddress !== undefined) {
      const [network = '', prefix = ''] = base.iPAddress.split('/');
      addresses.addSubnet(network, Number(prefix), isIP(network) === 6 ? 'ipv6' : 'ipv4');
    }
  }
  return { names, addresses };
}

/**
 * The names and addresses of `wanted` that the authority may sign, and those
 * it may not: a server certificate naming even one address outside the
 * authority's constraints is refused by restic as a whole, so such names are
 * left out rather than put in.
 */
export function namesWithin(authorityPem: string, wanted: ServerNames): { covered: ServerNames; left: string[] } {
  const allowed = permitted(authorityPem);
  if (!allowed) return { covered: wanted, left: [] };
  const nameOk = (name: string) => {
    const lower = name.toLowerCase();
    return allowed.names.some((base) => lower === base || lower.endsWith(`.${base}`));
  };
  const addressOk = (address: string) => allowed.addresses.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  return {
    covered: { hostNames: wanted.hostNames.filter(nameOk), addresses: wanted.addresses.filter(addressOk) },
    left: [...wanted.hostNames.filter((name) => !nameOk(name)), ...wanted.addresses.filter((address) => !addressOk(address))],
  };
}
