import { describe, expect, it } from "vitest";
import { checkJsonSchema, MAX_SCHEMA_DEPTH } from "../../src/domain/json-schema";

const at = "p.schema";

describe("checkJsonSchema", () => {
  it("accepts real-world parameter schemas", () => {
    for (const schema of [
      { type: "string" },
      { type: ["string", "null"], maxLength: 20 },
      { type: "integer", minimum: 1, exclusiveMaximum: 100, multipleOf: 1 },
      { type: "number", exclusiveMinimum: true, minimum: 0 },
      { enum: ["small", "medium", "large"] },
      { const: 42 },
      { $ref: "#/$defs/address", $defs: { address: { type: "object" } } },
      { oneOf: [{ type: "string" }, { type: "number" }] },
      { not: { type: "null" } },
      {
        type: "object",
        properties: { date: { type: "string", format: "date" }, seats: { type: "integer", minimum: 1 }, tags: { type: "array", items: { type: "string" }, uniqueItems: true } },
        required: ["date"],
        additionalProperties: false,
        patternProperties: { "^x-": { type: "string" } },
      },
      { type: "array", items: [{ type: "string" }, { type: "number" }], additionalItems: false },
      { type: "string", "x-custom-keyword": { anything: true } },
    ]) {
      expect(checkJsonSchema(schema, at), JSON.stringify(schema)).toBeUndefined();
    }
  });

  it("requires an object that says what it accepts", () => {
    expect(checkJsonSchema("string", at)).toMatchObject({ field: at });
    expect(checkJsonSchema(["string"], at)).toMatchObject({ field: at });
    expect(checkJsonSchema(null, at)).toMatchObject({ field: at });
    expect(checkJsonSchema({}, at)).toMatchObject({ field: at });
    expect(checkJsonSchema({ description: "a date" }, at)?.reason).toContain('"type"');
  });

  it("names the keyword at fault, however deep", () => {
    const cases: [unknown, string][] = [
      [{ type: "strin" }, `${at}.type`],
      [{ type: [] }, `${at}.type`],
      [{ type: ["string", "string"] }, `${at}.type`],
      [{ type: "string", minLength: -1 }, `${at}.minLength`],
      [{ type: "string", maxLength: 1.5 }, `${at}.maxLength`],
      [{ type: "number", minimum: "0" }, `${at}.minimum`],
      [{ type: "number", multipleOf: 0 }, `${at}.multipleOf`],
      [{ type: "string", pattern: "(" }, `${at}.pattern`],
      [{ type: "string", format: 5 }, `${at}.format`],
      [{ type: "array", uniqueItems: "yes" }, `${at}.uniqueItems`],
      [{ type: "object", required: "name" }, `${at}.required`],
      [{ type: "object", required: ["a", "a"] }, `${at}.required`],
      [{ type: "object", properties: [] }, `${at}.properties`],
      [{ type: "object", properties: { a: "string" } }, `${at}.properties.a`],
      [{ type: "object", properties: { a: { type: "object", properties: { b: { type: "bool" } } } } }, `${at}.properties.a.properties.b.type`],
      [{ type: "object", patternProperties: { "[": { type: "string" } } }, `${at}.patternProperties.[`],
      [{ type: "array", items: 3 }, `${at}.items`],
      [{ type: "array", items: [{ type: "string" }, { type: "wat" }] }, `${at}.items.1.type`],
      [{ anyOf: [] }, `${at}.anyOf`],
      [{ oneOf: [{ type: "string" }, 7] }, `${at}.oneOf.1`],
      [{ enum: "a" }, `${at}.enum`],
      [{ $ref: 5 }, `${at}.$ref`],
      [{ type: "object", additionalProperties: "no" }, `${at}.additionalProperties`],
    ];
    for (const [schema, field] of cases) expect(checkJsonSchema(schema, at)?.field, JSON.stringify(schema)).toBe(field);
  });

  it("bounds nesting so hostile input cannot exhaust the stack", () => {
    let schema: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 10_000; i++) schema = { type: "object", properties: { a: schema } };
    const problem = checkJsonSchema(schema, at);
    expect(problem?.reason).toContain(`${MAX_SCHEMA_DEPTH} levels`);
  });
});
