import { describe, expect, it } from "vitest";
import { checkOutboundUrl, urlPolicyFor } from "../../src/domain/url-safety";

const strict = { allowLoopback: false };
const dev = { allowLoopback: true };

const accepts = (url: string, policy = strict) => checkOutboundUrl(url, policy).ok;
const reason = (url: string, policy = strict) => {
  const result = checkOutboundUrl(url, policy);
  return result.ok ? undefined : result.reason;
};

describe("checkOutboundUrl", () => {
  it("accepts public https URLs, including public IP literals", () => {
    for (const url of [
      "https://api.example.com/orders/{orderId}",
      "https://api.example.com:8443/v1?limit=10&page_token=abc",
      "https://8.8.8.8/dns",
      "https://[2606:4700:4700::1111]/",
      "https://[::ffff:8.8.8.8]/",
      "https://sub.domain.example.co.uk./path",
    ]) {
      expect(accepts(url), url).toBe(true);
    }
  });

  it("requires https, allowing http only to loopback and only when the policy admits loopback", () => {
    expect(reason("http://api.example.com/")).toBe("Must use https");
    expect(reason("ftp://api.example.com/")).toBe("Must use https");
    expect(reason("http://api.example.com/", dev)).toBe("Must use https");
    expect(reason("http://127.0.0.1:8080/hook")).toBe("Must use https");
    for (const url of ["http://127.0.0.1:8080/hook", "http://localhost:3000/", "http://[::1]/", "https://localhost/"]) {
      expect(accepts(url, dev), url).toBe(true);
      expect(accepts(url), url).toBe(false);
    }
  });

  it("refuses non-public IPv4 literals in every spelling the URL parser accepts", () => {
    for (const url of [
      "https://127.0.0.1/",
      "https://127.1/",
      "https://2130706433/",
      "https://0x7f.0.0.1/",
      "https://0177.0.0.1/",
      "https://10.1.2.3/",
      "https://172.16.0.1/",
      "https://172.31.255.255/",
      "https://192.168.1.1/",
      "https://169.254.169.254/latest/meta-data/",
      "https://100.64.0.1/",
      "https://0.0.0.0/",
      "https://224.0.0.1/",
      "https://255.255.255.255/",
      "https://198.18.0.1/",
    ]) {
      expect(reason(url), url).toMatch(/^Must not target a (private, loopback or link-local address|loopback address)/);
    }
    // Loopback stays refused under the dev policy unless it is one of the named loopback hosts.
    expect(accepts("https://127.0.0.2/", dev)).toBe(false);
    expect(accepts("https://172.32.0.1/")).toBe(true);
  });

  it("refuses non-public IPv6 literals, including ones that embed a private IPv4 address", () => {
    for (const url of [
      "https://[::1]/",
      "https://[::]/",
      "https://[fe80::1]/",
      "https://[fd12:3456::1]/",
      "https://[fc00::1]/",
      "https://[ff02::1]/",
      "https://[::ffff:127.0.0.1]/",
      "https://[::ffff:169.254.169.254]/",
      "https://[64:ff9b::10.0.0.1]/",
      "https://[2002:c0a8:0101::1]/",
      "https://[2001:db8::1]/",
    ]) {
      expect(accepts(url), url).toBe(false);
    }
  });

  it("refuses local and internal host names", () => {
    for (const url of [
      "https://localhost/",
      "https://LOCALHOST./",
      "https://api.localhost/",
      "https://metadata.google.internal/",
      "https://printer.local/",
      "https://nas.home.arpa/",
      "https://intranet/",
    ]) {
      expect(accepts(url), url).toBe(false);
    }
  });

  it("refuses credentials and secret-looking query parameters", () => {
    expect(reason("https://user:pass@api.example.com/")).toContain("Secrets must not be embedded in the URL");
    expect(reason("https://user@api.example.com/")).toContain("user:password@");
    for (const name of ["api_key", "apiKey", "API-KEY", "key", "token", "access_token", "secret", "client_secret", "password", "x_api_key"]) {
      const url = `https://api.example.com/?q=1&${name}=abc`;
      expect(reason(url), url).toBe(`Secrets must not be embedded in the URL: remove the query parameter "${name}"`);
    }
    expect(accepts("https://api.example.com/?monkey=1&keyword=x&sort_key=name")).toBe(true);
  });

  it("refuses what is not an absolute URL, and overlong URLs", () => {
    expect(reason("/relative/path")).toContain("absolute URL");
    expect(reason("example.com")).toContain("absolute URL");
    expect(reason(`https://example.com/${"a".repeat(2100)}`)).toContain("2048");
  });

  it("derives the policy from SIMULATOR_ENABLED", () => {
    expect(urlPolicyFor({ SIMULATOR_ENABLED: "true" })).toEqual({ allowLoopback: true });
    expect(urlPolicyFor({ SIMULATOR_ENABLED: "false" })).toEqual({ allowLoopback: false });
    expect(urlPolicyFor({})).toEqual({ allowLoopback: false });
  });
});
