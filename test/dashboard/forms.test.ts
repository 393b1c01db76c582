import { describe, expect, it } from "vitest";
import { agentBodyFromForm, agentFormValues } from "../../src/dashboard/agent-form";
import { dayStart, issuesByField, plainReason } from "../../src/dashboard/forms";

describe("dashboard forms", () => {
  it("turns zod's commonest wording into plain words and leaves the rest alone", () => {
    expect(plainReason("Too small: expected string to have >=1 characters")).toBe("Required");
    expect(plainReason("Invalid input: expected string, received undefined")).toBe("Required");
    expect(plainReason("Invalid input: expected number, received string")).toBe("Must be a number");
    expect(plainReason("Invalid input: expected array, received string")).toBe("Must be a list");
    expect(plainReason("Too big: expected string to have <=255 characters")).toBe("At most 255 characters");
    expect(plainReason("Too small: expected number to be >=2")).toBe("Must be at least 2");
    expect(plainReason("Too big: expected number to be <1")).toBe("Must be less than 1");
    expect(plainReason("Must be a BCP-47 tag such as en-US")).toBe("Must be a BCP-47 tag such as en-US");
  });

  it("files the API's issues under their top-level field", () => {
    const failure = {
      ok: false as const,
      status: 422,
      code: "validation_error",
      message: "Invalid voicemail.message: Required",
      details: { issues: [{ field: "voicemail.message", reason: "Required when action is leave_message" }, { field: "name", reason: "Too small: expected string to have >=1 characters" }] },
    };
    expect(issuesByField(failure)).toEqual({ voicemail: "voicemail.message: Required when action is leave_message", name: "Required" });
    expect(issuesByField(undefined)).toEqual({});
  });

  it("builds a create body without blanks, an edit body that clears them", () => {
    const form = { name: "A", system_prompt: "P", voice_id: "v", greeting: "", temperature: "", max_duration: "90", tools: ["t1", "t2"], voicemail_action: "", analysis_schema: "", transfer_destinations: "" };
    expect(agentBodyFromForm(form, "create")).toEqual({ ok: true, body: { name: "A", system_prompt: "P", voice_id: "v", recording_enabled: false, max_duration: 90, tools: ["t1", "t2"] } });
    const edit = agentBodyFromForm({ ...form, tools: [] as string[] }, "edit");
    expect(edit.ok && edit.body).toMatchObject({ greeting: null, voicemail: null, analysis_schema: null, transfer_destinations: [], tools: [], knowledge_bases: [] });
  });

  it("refuses what a text box cannot turn into the API's types, naming the field", () => {
    expect(agentBodyFromForm({ temperature: "warm" }, "create")).toMatchObject({ ok: false, failure: { status: 422, message: "Invalid temperature: Must be a number" } });
    expect(agentBodyFromForm({ max_duration: "1.5" }, "create")).toMatchObject({ ok: false, failure: { details: { field: "max_duration", reason: "Must be a whole number" } } });
    expect(agentBodyFromForm({ stt: "{oops" }, "create")).toMatchObject({ ok: false, failure: { details: { field: "stt" } } });
  });

  it("round-trips an agent through its edit form", () => {
    const agent = {
      name: "A",
      description: null,
      status: "active",
      voice_id: "v",
      system_prompt: "P",
      greeting: "Hi",
      first_speaker: "agent",
      llm: { provider: "openai", model: "gpt-4o-mini" },
      temperature: 0.3,
      language_hint: null,
      tools: ["t"],
      knowledge_bases: [],
      recording_enabled: true,
      max_duration: 600,
      join_timeout: 30,
      inactivity_timeout: 10,
      inactivity_message: null,
      max_duration_message: null,
      voicemail: { action: "leave_message", message: "Call back" },
      success_criteria: null,
      stt: { provider: "deepgram", model: "nova-3" },
      interruption: { enabled: true, min_words: 2, min_speech_ms: 400 },
      transfer_destinations: [],
      analysis_schema: { type: "object" },
    };
    const built = agentBodyFromForm(agentFormValues(agent), "edit");
    expect(built.ok && built.body).toMatchObject({
      name: "A",
      greeting: "Hi",
      model: "gpt-4o-mini",
      temperature: 0.3,
      tools: ["t"],
      recording_enabled: true,
      max_duration: 600,
      voicemail: { action: "leave_message", message: "Call back" },
      stt: agent.stt,
      interruption: agent.interruption,
      transfer_destinations: [],
      analysis_schema: { type: "object" },
      description: null,
    });
  });

  it("reads date inputs as UTC day bounds", () => {
    expect(dayStart("2030-05-06")).toBe("2030-05-06T00:00:00.000Z");
    expect(dayStart("2030-05-06", true)).toBe("2030-05-07T00:00:00.000Z");
    expect(dayStart("06/05/2030")).toBeUndefined();
    expect(dayStart("2030-13-45")).toBeUndefined();
  });
});
