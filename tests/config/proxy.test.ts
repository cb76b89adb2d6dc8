// The proxy decision for a request to AlarmBox (src/config/proxy.ts): precedence, NO_PROXY forms, loopback.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.ts';
import { isLoopback, proxyRoute } from '../../src/config/proxy.ts';

const ALARMBOX = new URL('https://api.alarmbox.jp');
const via = (env: Record<string, string>, target = ALARMBOX) => {
  const route = proxyRoute(target, env);
  return route.kind === 'proxy' ? `${route.proxy.variable} ${route.proxy.display}` : route.why;
};

describe('proxyRoute', () => {
  it('lower case before upper case, HTTPS before HTTP, blank values unset', () => {
    expect(via({})).toBe('unset');
    expect(via({ HTTPS_PROXY: 'http://a.example:8080' })).toBe('HTTPS_PROXY a.example:8080');
    expect(via({ HTTPS_PROXY: 'http://a.example:8080', https_proxy: 'http://b.example:3128' })).toBe(
      'https_proxy b.example:3128',
    );
    expect(via({ HTTP_PROXY: 'http://c.example' })).toBe('HTTP_PROXY c.example:80');
    expect(via({ https_proxy: ' ', HTTP_PROXY: 'https://d.example' })).toBe('HTTP_PROXY d.example:443');
  });

  it('NO_PROXY: exact, subdomains, leading dot or *., ports, *, separators', () => {
    const proxy = { HTTPS_PROXY: 'http://p.example:8080' };
    for (const entry of [
      'api.alarmbox.jp',
      'alarmbox.jp',
      '.alarmbox.jp',
      '*.alarmbox.jp',
      'alarmbox.jp:443',
      '*',
    ]) {
      expect(via({ ...proxy, NO_PROXY: `other.example, ${entry}` }), entry).toBe('no_proxy');
    }
    for (const entry of ['alarmbox.jp:8443', 'box.jp', 'xalarmbox.jp', 'api.alarmbox.jp.example']) {
      expect(via({ ...proxy, no_proxy: entry }), entry).toBe('HTTPS_PROXY p.example:8080');
    }
    expect(via({ ...proxy, NO_PROXY: 'a.example api.alarmbox.jp' })).toBe('no_proxy');
    const v6 = new URL('https://[2001:db8::1]/');
    expect(via({ ...proxy, NO_PROXY: '[2001:db8::1]:443' }, v6)).toBe('no_proxy');
    expect(via({ ...proxy, NO_PROXY: '2001:db8::1' }, v6)).toBe('no_proxy');
  });

  it('loopback is never proxied, whatever NO_PROXY says', () => {
    const env = { HTTPS_PROXY: 'http://p.example:8080', NO_PROXY: 'nothing.example' };
    for (const url of [
      'https://127.0.0.1:4010',
      'http://127.3.4.5',
      'https://localhost',
      'http://[::1]:4010',
    ]) {
      expect(via(env, new URL(url)), url).toBe('loopback');
    }
    expect(isLoopback('128.0.0.1')).toBe(false);
    expect(isLoopback('localhost.example')).toBe(false);
  });

  it('a malformed proxy URL is a ConfigError naming the variable; never shown with its password', () => {
    for (const value of ['proxy.example:8080', 'http://', 'socks5://127.0.0.1:1080', 'http://[bad']) {
      let caught: unknown;
      try {
        proxyRoute(ALARMBOX, { https_proxy: value });
      } catch (error) {
        caught = error;
      }
      expect(caught, value).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).variable).toBe('https_proxy');
    }
    // Excluded by NO_PROXY: the malformed value is not used, so not an error.
    expect(via({ HTTPS_PROXY: 'nonsense', NO_PROXY: '*' })).toBe('no_proxy');
    const route = proxyRoute(ALARMBOX, { HTTPS_PROXY: 'http://u:secret@p.example:8080' });
    expect(route.kind === 'proxy' ? route.proxy.display : '').toBe('p.example:8080');
  });
});
