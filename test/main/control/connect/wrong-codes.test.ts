import { describe, expect, it } from 'vitest';
import { failureKey, WrongCodes } from '../../../../main/control/connect/wrong-codes.js';

describe('wrong set-up codes', () => {
  it('are counted per IPv4 address (mapped into IPv6 too) and per IPv6 /64, however it is written', () => {
    expect(
      [
        '192.168.1.20',
        '::ffff:192.168.1.20',
        '2001:db8:1:2:aaaa:bbbb:cccc:dddd',
        '2001:0db8:0001:0002::1',
        '2001:db8:1:2::ffff:10.0.0.1',
        'fe80::1%eth0',
        '::1',
        '2001:db8::',
      ].map(failureKey),
    ).toEqual(['192.168.1.20', '192.168.1.20', '2001:db8:1:2::/64', '2001:db8:1:2::/64', '2001:db8:1:2::/64', 'fe80:0:0:0::/64', '0:0:0:0::/64', '2001:db8:0:0::/64']);
  });

  it('one address: slower and slower answers, refused after 20 in a quarter of an hour, then forgiven', () => {
    const codes = new WrongCodes();
    const verdicts = Array.from({ length: 22 }, (_, i) => codes.count('192.0.2.7', i * 1000));
    expect(verdicts.slice(0, 7)).toEqual([250, 500, 1000, 2000, 4000, 8000, 8000].map((delayMs) => ({ delayMs })));
    expect(verdicts.slice(20)).toEqual([{ refused: 'address' }, { refused: 'address' }]);
    // Another address of the same IPv6 /64 is the same sender; one of another /64 is not.
    for (let i = 0; i < 20; i++) codes.count(`2001:db8:1:2::${i + 1}`, 60_000 + i);
    expect(codes.count('2001:db8:1:2:ffff::9', 61_000)).toEqual({ refused: 'address' });
    expect(codes.count('2001:db8:1:3::1', 61_000)).toEqual({ delayMs: 250 });
    expect(codes.count('192.0.2.7', 15 * 60_000)).toEqual({ delayMs: 250 });
  });

  it('all addresses together: a budget per minute, beyond it refused at once; the table keeps the newest addresses only', () => {
    const codes = new WrongCodes({ kept: 3, perMinute: 5 });
    expect(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.1'].map((address) => codes.count(address, 0))).toEqual([
      { delayMs: 250 },
      { delayMs: 250 },
      { delayMs: 250 },
      { delayMs: 250 },
      // 10.0.0.1 was the oldest of four, over the three kept: forgotten, it starts again.
      { delayMs: 250 },
    ]);
    expect(codes.count('10.0.0.9', 59_999)).toEqual({ refused: 'everyone' });
    // 10.0.0.4 is still remembered: its second wrong code waits longer.
    expect(codes.count('10.0.0.4', 60_000)).toEqual({ delayMs: 500 });
  });
});
