import { describe, expect, it } from "vitest";
import { CATALOGUE_VOICE_ID } from "../helpers/api";
import { newDashboard } from "./helpers";

describe("dashboard: request body limits", () => {
  it("refuses a form over 1 MB with 413 before reading it, and stores nothing", async () => {
    const { org, browser } = await newDashboard();
    const res = await browser.post("/app/agents", { name: "Huge", voice_id: CATALOGUE_VOICE_ID, system_prompt: "x".repeat(1024 * 1024 + 1) });
    expect(res.status).toBe(413);
    expect(res.json().error.code).toBe("payload_too_large");
    expect((await org.get("/agents")).body.pagination.total).toBe(0);
  });

  it("gives the CSV upload form the room of the API's import (a 1.2 MB file is read)", async () => {
    const { org, browser } = await newDashboard();
    const folder = (await org.post("/contacts/folders", { name: "Big" })).body.data;
    const rows = ["phone_number,first_name"];
    // Few rows, long cells: over the 1 MB default without a slow import (over-long names are row errors).
    for (let i = 0; i < 300; i++) rows.push(`+1415555${String(i).padStart(4, "0")},${"n".repeat(4000)}`);
    const form = new FormData();
    form.set("file", new File([rows.join("\n")], "big.csv", { type: "text/csv" }));
    const res = await browser.post(`/app/contacts/folders/${folder.id}/import`, form);
    expect(res.status).not.toBe(413);
    expect(res.status).toBeLessThan(500);
  });
});
