import { describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { generateWebhookSecret, signatureHeaders, standardSignature, truedySignature } from "../../src/webhooks/sign";

describe("webhook signatures", () => {
  it("matches the Standard Webhooks reference vector", async () => {
    const signature = await standardSignature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}');
    expect(signature).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("is verified by the standardwebhooks library, including during a rotation", async () => {
    const [oldSecret, newSecret] = [generateWebhookSecret(), generateWebhookSecret()];
    expect(newSecret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const body = JSON.stringify({ id: "evt_1", event: "call.ended", data: { call_id: "c" } });
    const timestamp = Math.floor(Date.now() / 1000);
    const headers = await signatureHeaders({ id: "evt_1", timestamp, body }, [newSecret, oldSecret]);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    for (const secret of [newSecret, oldSecret]) {
      expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
    }
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it("signs X-Truedy-Signature as hex HMAC-SHA256 of timestamp.body keyed with the whole secret", async () => {
    const secret = "whsec_dGVzdA==";
    const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const expected = Array.from(new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("1700000000.{}"))), (b) =>
      b.toString(16).padStart(2, "0"),
    ).join("");
    expect(await truedySignature(secret, 1700000000, "{}")).toBe(expected);
    const headers = await signatureHeaders({ id: "e", timestamp: 1700000000, body: "{}" }, [secret, "whsec_b2xk"]);
    expect(headers["X-Truedy-Signature"].split(",")[0]).toBe(expected);
  });
});
