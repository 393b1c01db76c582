import { describe, expect, it } from "vitest";
import { manualClockPerTest } from "../helpers/clock";
import { newDashboard, textOf } from "./helpers";

manualClockPerTest(Date.UTC(2030, 3, 4, 12, 0, 0));

describe("dashboard: do-not-call list", () => {
  it("adds, searches and removes numbers", async () => {
    const { org, browser } = await newDashboard();
    expect(textOf((await browser.get("/app/dnc")).text)).toContain("The list is empty.");

    const added = await browser.post("/app/dnc", { phone_number: "(415) 555-0123", default_country: "US", reason: "Asked twice" });
    expect(added.status).toBe(303);
    expect(textOf((await browser.get("/app/dnc")).text)).toContain("+14155550123 will not be called.");
    await browser.post("/app/dnc", { phone_number: "+12125550188", reason: "" });
    const again = await browser.post("/app/dnc", { phone_number: "+14155550123" });
    expect(textOf((await browser.get(again.location!)).text)).toContain("+14155550123 was already on the list.");

    const list = textOf((await browser.get("/app/dnc")).text);
    expect(list).toContain("+14155550123 Asked twice api");
    expect(list).toContain("+12125550188 — api");

    const found = await browser.get("/app/dnc?search=415");
    expect(textOf(found.text)).toContain("+14155550123");
    expect(textOf(found.text)).not.toContain("+12125550188");
    expect(textOf((await browser.get("/app/dnc?search=999")).text)).toContain("No listed number matches this search.");

    const entry = (await org.get("/dnc?search=415")).body.data[0];
    const removed = await browser.post(`/app/dnc/${entry.id}/delete`);
    expect(removed.status).toBe(303);
    expect(textOf((await browser.get("/app/dnc")).text)).toContain("Number removed from the list");
    expect((await org.get("/dnc")).body.data.map((e: { phone_number: string }) => e.phone_number)).toEqual(["+12125550188"]);
  });

  it("explains a number it cannot read and keeps what was typed", async () => {
    const { org, browser } = await newDashboard();
    const res = await browser.post("/app/dnc", { phone_number: "call me maybe", reason: "Typed by hand" });
    expect(res.status).toBe(422);
    expect(textOf(res.text)).toContain("Some of the values need fixing.");
    expect(textOf(res.text)).toContain("Invalid phone_number");
    expect(res.text).toContain('value="call me maybe"');
    expect(res.text).toContain('value="Typed by hand"');
    expect((await org.get("/dnc")).body.data).toEqual([]);
  });

  it("cannot remove another organization's entry", async () => {
    const owner = await newDashboard("Owner");
    const { browser: intruder } = await newDashboard("Intruder");
    const entry = (await owner.org.post("/dnc", { phone_number: "+14155550123" })).body.data;
    const res = await intruder.post(`/app/dnc/${entry.id}/delete`);
    expect(res.status).toBe(303);
    expect(textOf((await intruder.get(res.location!)).text)).toContain("That number is no longer on the list.");
    expect((await owner.org.get("/dnc")).body.data).toHaveLength(1);
    expect(textOf((await intruder.get("/app/dnc")).text)).toContain("The list is empty.");
  });
});
