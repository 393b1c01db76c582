import { describe, expect, it } from "vitest";
import {
  analysisMessages,
  analysisPlan,
  checkAnalysisAnswer,
  checkAnalysisSchema,
  contactOutcome,
  correctionMessages,
  transcriptText,
} from "../../src/domain/call-analysis";
import { schemaErrors } from "../../src/domain/json-schema";

const SCHEMA = {
  type: "object",
  properties: {
    appointment_confirmed: { type: "boolean" },
    new_date: { type: ["string", "null"], format: "date" },
    budget: { type: "number", minimum: 0 },
    topics: { type: "array", items: { $ref: "#/$defs/topic" } },
  },
  required: ["appointment_confirmed", "budget"],
  additionalProperties: false,
  $defs: { topic: { type: "string", enum: ["billing", "booking", "other"] } },
};

describe("analysis_schema check (agents)", () => {
  it("accepts an object schema with local references, in any supported draft", () => {
    expect(checkAnalysisSchema(SCHEMA)).toBeUndefined();
    expect(checkAnalysisSchema({ $schema: "http://json-schema.org/draft-04/schema#", type: "object", properties: { n: { type: "integer", minimum: 1, exclusiveMinimum: true } } })).toBeUndefined();
    expect(checkAnalysisSchema({ type: "object", properties: { self: { $ref: "#" } } })).toBeUndefined();
  });

  it.each([
    ["not a schema", "analysis_schema", /JSON Schema object/],
    [{ properties: {} }, "analysis_schema", /Must say what it accepts/],
    [{ type: "string" }, "analysis_schema.type", /Must be "object"/],
    [{ type: "object", properties: { n: { type: "decimal" } } }, "analysis_schema.properties.n.type", /Must be one of/],
    [{ type: "object", required: "n" }, "analysis_schema.required", /distinct property names/],
    [{ type: "object", properties: { s: { type: "string", pattern: "([" } } }, "analysis_schema.properties.s.pattern", /regular expression/],
    [{ type: "object", properties: { t: { $ref: "#/$defs/missing" } } }, "analysis_schema.properties.t.$ref", /does not point at anything/],
    [{ type: "object", properties: { t: { $ref: "https://example.com/schema.json" } } }, "analysis_schema.properties.t.$ref", /Only references inside the schema/],
    [{ type: "object", description: "x".repeat(20_000) }, "analysis_schema", /at most 16384 bytes/],
  ])("rejects %j naming %s", (schema, field, reason) => {
    const problem = checkAnalysisSchema(schema);
    expect(problem?.field).toBe(field);
    expect(problem?.reason).toMatch(reason);
  });
});

describe("checking the model's answer", () => {
  const expectBoth = { successCriteria: true, analysisSchema: SCHEMA };
  const good = { summary: "Ana confirmed Tuesday.", success: true, sentiment: "positive", data: { appointment_confirmed: true, budget: 120, new_date: null, topics: ["booking"] } };

  it("takes a correct answer, also inside a ```json fence", () => {
    const result = checkAnalysisAnswer(JSON.stringify(good), expectBoth);
    expect(result).toEqual({ ok: true, result: good });
    expect(checkAnalysisAnswer("```json\n" + JSON.stringify(good) + "\n```", expectBoth)).toEqual({ ok: true, result: good });
  });

  it("lists every problem, data ones by path", () => {
    const bad = { summary: "", success: "yes", sentiment: "happy", data: { appointment_confirmed: "true", budget: -5, topics: ["weather"], extra: 1 } };
    const result = checkAnalysisAnswer(JSON.stringify(bad), expectBoth);
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors).toContain("summary: must be a non-empty string");
    expect(errors).toContain('sentiment: must be one of "positive", "neutral", "negative"');
    expect(errors).toContain("success: must be true or false");
    expect(errors.some((e) => e.startsWith("data.appointment_confirmed:"))).toBe(true);
    expect(errors.some((e) => e.startsWith("data.budget:"))).toBe(true);
    expect(errors.some((e) => e.startsWith("data.topics.0:"))).toBe(true);
    expect(errors.some((e) => e.startsWith("data:") && e.includes("extra"))).toBe(true);
  });

  it("refuses text that is not a JSON object, and a missing data", () => {
    expect(checkAnalysisAnswer("Sure! Here is the analysis.", expectBoth)).toEqual({ ok: false, errors: ["the answer is not valid JSON: send one JSON object and nothing else"] });
    expect(checkAnalysisAnswer("[1, 2]", expectBoth)).toEqual({ ok: false, errors: ["the answer must be a JSON object"] });
    const { data: _data, ...noData } = good;
    expect(checkAnalysisAnswer(JSON.stringify(noData), expectBoth)).toEqual({ ok: false, errors: ["data: is missing"] });
  });

  it("without criteria or schema, success and data are null whatever the model said", () => {
    const answer = JSON.stringify({ summary: "Short call.", success: true, sentiment: "neutral", data: { anything: 1 } });
    expect(checkAnalysisAnswer(answer, { successCriteria: false, analysisSchema: null })).toEqual({
      ok: true,
      result: { summary: "Short call.", success: null, sentiment: "neutral", data: null },
    });
  });

  it("reports schema errors of the data alone", () => {
    expect(schemaErrors(SCHEMA, { appointment_confirmed: true, budget: 3 })).toEqual([]);
    expect(schemaErrors(SCHEMA, { appointment_confirmed: true })).toEqual([expect.stringMatching(/^data: .*budget/)]);
  });
});

describe("the request to the model", () => {
  const turns = [
    { speaker: "agent" as const, text: "Hello Ana, this is Maya.", start_ms: 0 },
    { speaker: "contact" as const, text: "Hi! Yes, Tuesday works.", start_ms: 2400 },
    { speaker: "agent" as const, text: "  ", start_ms: 4000 },
  ];

  it("states the keys, the criteria and the schema, and gives the transcript with times", () => {
    const [system, user] = analysisMessages({ turns, successCriteria: "The contact confirms the appointment.", analysisSchema: SCHEMA, endReason: "hangup_by_contact", durationSeconds: 13 });
    expect(system.role).toBe("system");
    expect(system.content).toContain("JSON object");
    expect(system.content).toContain("Success criteria:\nThe contact confirms the appointment.");
    expect(system.content).toContain(JSON.stringify(SCHEMA));
    expect(user).toEqual({
      role: "user",
      content: "Transcript (seconds from the answer):\n[0.0s] Agent: Hello Ana, this is Maya.\n[2.4s] Contact: Hi! Yes, Tuesday works.\n\nThe call ended: end reason hangup_by_contact, 13 s long.",
    });
    const [plain] = analysisMessages({ turns, successCriteria: null, analysisSchema: null, endReason: null, durationSeconds: null });
    expect(plain.content).toContain('"success": null');
    expect(plain.content).toContain('"data": null');
    expect(plain.content).not.toContain("Success criteria");
  });

  it("sends a rejected answer back with what was wrong", () => {
    expect(correctionMessages('{"summary":""}', ["summary: must be a non-empty string"])).toEqual([
      { role: "assistant", content: '{"summary":""}' },
      { role: "user", content: "That answer was rejected:\n- summary: must be a non-empty string\nAnswer again with only the corrected JSON object." },
    ]);
  });

  it("keeps the start and the end of a very long transcript", () => {
    const long = Array.from({ length: 2000 }, (_, i) => ({ speaker: "contact" as const, text: `sentence number ${i} of a long call`, start_ms: i * 1000 }));
    const text = transcriptText(long);
    expect(text.length).toBeLessThan(31_000);
    expect(text).toContain("sentence number 0 of");
    expect(text).toContain("sentence number 1999 of");
    expect(text).toContain("[… middle of the call left out …]");
  });
});

describe("what a call gets analysed for, and its contact's outcome", () => {
  it("analyses answered calls where the contact spoke, skips machines and silence", () => {
    const spoke = [{ speaker: "contact" as const, text: "Hello?", start_ms: 0 }];
    expect(analysisPlan({ endReason: "hangup_by_contact", answeredBy: "human" }, spoke)).toBe("analyse");
    expect(analysisPlan({ endReason: "voicemail", answeredBy: "machine" }, spoke)).toBe("voicemail");
    expect(analysisPlan({ endReason: "hangup_by_contact", answeredBy: "machine" }, spoke)).toBe("voicemail");
    expect(analysisPlan({ endReason: "inactivity", answeredBy: "human" }, [{ speaker: "agent", text: "Hello?", start_ms: 0 }])).toBe("no_conversation");
    expect(analysisPlan({ endReason: "hangup_by_api", answeredBy: null }, [])).toBe("no_conversation");
  });

  const ended = (status: "completed" | "failed" | "cancelled", endReason: any, answeredBy: string | null = null, answered = status === "completed") => ({ status, endReason, answeredBy, answered });

  it.each([
    [ended("completed", "voicemail", "machine"), null, "voicemail"],
    [ended("completed", "hangup_by_contact", "machine"), null, "voicemail"],
    [ended("completed", "transferred", "human"), null, "escalated"],
    [ended("failed", "no_answer"), null, "no_answer"],
    [ended("failed", "busy"), null, "no_answer"],
    [ended("failed", "carrier_error"), null, "no_answer"],
    [ended("failed", "cancelled"), null, null],
    [ended("cancelled", "hangup_by_api"), null, null],
    [ended("failed", "carrier_error", "human", true), null, "contacted"],
    [ended("completed", "hangup_by_contact", "human"), { status: "pending", success: null }, "contacted"],
    [ended("completed", "hangup_by_contact", "human"), { status: "completed", success: true }, "interested"],
    [ended("completed", "hangup_by_agent", "human"), { status: "completed", success: false }, "not_interested"],
    [ended("completed", "hangup_by_contact", "human"), { status: "completed", success: null }, "contacted"],
    [ended("completed", "hangup_by_contact", "human"), { status: "failed", success: null }, "contacted"],
    [ended("completed", "inactivity", "human"), { status: "skipped", success: null }, "contacted"],
  ] as const)("%j with analysis %j → %s", (call, analysis, outcome) => {
    expect(contactOutcome(call, analysis)).toBe(outcome);
  });

  it("says nothing while the call is live", () => {
    expect(contactOutcome({ status: "in_progress", endReason: null, answeredBy: "machine", answered: true }, null)).toBeNull();
  });
});
