import { describe, expect, it } from 'vitest';
import { CheckLimits, networkOf } from '../../server/check-limits.js';

describe('networkOf', () => {
  it.each([
    ['192.0.2.77', '192.0.2.0/24'],
    ['::ffff:192.0.2.77', '192.0.2.0/24'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0db8:0001:0002::', '2001:db8:1:2::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
    ['', ''],
  ])('puts %s in %s', (address, network) => {
    expect(networkOf(address)).toBe(network);
  });
});

describe('CheckLimits', () => {
  it('gives places up to each limit, says which limit refused, and takes places back', () => {
    const limits = new CheckLimits({ perAddress: 2, perNetwork: 3, inAll: 4 });
    const first = limits.take('192.0.2.1');
    limits.take('192.0.2.1');
    expect(limits.take('192.0.2.1')).toEqual({ refusal: expect.stringMatching(/^too many logins from your address/) });
    limits.take('192.0.2.2');
    expect(limits.take('192.0.2.3')).toEqual({ refusal: expect.stringMatching(/your network \(192\.0\.2\.0\/24\)/) });
    limits.take('198.51.100.1');
    expect(limits.take('203.0.113.1')).toEqual({ refusal: expect.stringMatching(/^too many logins are waiting/) });
    if (!('release' in first)) throw new Error('the first check had no place');
    first.release();
    expect(limits.take('192.0.2.1')).toHaveProperty('release');
  });
});
