/**
 * Test-only: turns the JSON Schemas of our OpenAPI document (3.1, so JSON Schema 2020-12) into
 * fast-check arbitraries, plus the hostile values and mutations the contract fuzzer mixes in.
 * Pure: no I/O, so it can be read (and reasoned about) apart from the worker.
 */
import fc from "fast-check";

export type JsonSchema = Record<string, any>;
export interface OpenApiDocument {
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, JsonSchema> };
}

/**
 * Extra candidates per property name (e.g. `agent_id` → real ids of both orgs), so generated
 * bodies reach the handlers' business logic instead of always failing the "does it exist" check.
 */
export type Hints = Record<string, fc.Arbitrary<unknown>>;

/** Bounds the walk through self-referencing schemas and keeps generated values small. */
const MAX_DEPTH = 8;
const MAX_GENERATED_STRING = 40;
const MAX_GENERATED_ITEMS = 4;

/**
 * The hint every URL-like string takes (format `uri`, or a property named like `url`): the
 * fuzzer must never make the worker fetch a real host, so the caller points these at a local
 * fake. Without the hint, `.invalid` hosts (RFC 2606: never resolve) are used.
 */
export const URL_HINT = "(url)";
const UNRESOLVABLE_URL = fc.constantFrom("https://fuzz.invalid/hook", "https://fuzz.invalid/a?b=1");

export function resolveRef(schema: JsonSchema, doc: OpenApiDocument): JsonSchema {
  let current = schema;
  for (let hops = 0; current && typeof current.$ref === "string"; hops++) {
    if (hops > 20) throw new Error(`$ref cycle at ${schema.$ref}`);
    const name = current.$ref.replace("#/components/schemas/", "");
    const target = doc.components.schemas[name];
    if (!target) throw new Error(`unresolved $ref ${current.$ref}`);
    current = target;
  }
  return current;
}

function typesOf(schema: JsonSchema): string[] {
  if (Array.isArray(schema.type)) return schema.type;
  if (typeof schema.type === "string") return [schema.type];
  if (schema.properties || schema.additionalProperties) return ["object"];
  if (schema.items) return ["array"];
  return [];
}

function lengthFits(value: string, schema: JsonSchema) {
  return value.length >= (schema.minLength ?? 0) && value.length <= (schema.maxLength ?? Infinity);
}

function stringArbitrary(schema: JsonSchema, hints: Hints, name: string | undefined): fc.Arbitrary<unknown> {
  if (schema.format === "uri" || (name && /url/i.test(name))) return hints[URL_HINT] ?? UNRESOLVABLE_URL;
  if (schema.format === "date-time") {
    return fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2100-01-01T00:00:00Z"), noInvalidDate: true }).map((d) => d.toISOString());
  }
  if (schema.format === "email") return fc.emailAddress().filter((v) => lengthFits(v, schema));
  if (typeof schema.pattern === "string") {
    return fc.stringMatching(new RegExp(schema.pattern)).filter((v) => lengthFits(v, schema));
  }
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.max(minLength, Math.min(schema.maxLength ?? MAX_GENERATED_STRING, MAX_GENERATED_STRING));
  const arbitraries: fc.Arbitrary<string>[] = [
    fc.string({ minLength, maxLength }),
    fc.string({ minLength, maxLength, unit: "grapheme" }),
  ];
  // Boundary lengths: exactly the documented maximum (in UTF-16 units, as zod counts them).
  if (typeof schema.maxLength === "number" && schema.maxLength <= 100_000) arbitraries.push(fc.constant("m".repeat(schema.maxLength)));
  return fc.oneof(...arbitraries);
}

function numberArbitrary(schema: JsonSchema, integer: boolean): fc.Arbitrary<unknown> {
  const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + (integer ? 1 : 1e-9) : undefined);
  const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - (integer ? 1 : 1e-9) : undefined);
  const bounds = [min, max].filter((v): v is number => typeof v === "number");
  const random = integer
    ? fc.integer({ min: Math.ceil(min ?? -1_000_000), max: Math.floor(max ?? 1_000_000) })
    : fc.double({ min: min ?? -1e6, max: max ?? 1e6, noNaN: true, noDefaultInfinity: true });
  return bounds.length ? fc.oneof(random, fc.constantFrom(...bounds)) : random;
}

function objectArbitrary(schema: JsonSchema, doc: OpenApiDocument, hints: Hints, depth: number): fc.Arbitrary<unknown> {
  const properties: Record<string, JsonSchema> = schema.properties ?? {};
  const required = new Set<string>(schema.required ?? []);
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [key, propertySchema] of Object.entries(properties)) {
    record[key] = arbitraryFor(propertySchema, doc, { hints, depth: depth + 1, name: key });
  }
  const known = fc.record(record, { requiredKeys: [...required].filter((k) => k in record) });
  const extra = schema.additionalProperties;
  if (!extra || Object.keys(properties).length) return known;
  const valueArbitrary = extra === true || Object.keys(extra).length === 0 ? fc.jsonValue({ maxDepth: 2 }) : arbitraryFor(extra, doc, { hints, depth: depth + 1 });
  return fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), valueArbitrary, { maxKeys: 3 });
}

/** An arbitrary of values that satisfy `schema` (as far as the schema alone can say). */
export function arbitraryFor(schema: JsonSchema, doc: OpenApiDocument, options: { hints?: Hints; depth?: number; name?: string } = {}): fc.Arbitrary<unknown> {
  const { hints = {}, depth = 0, name } = options;
  const resolved = resolveRef(schema, doc);
  const fromSchema = schemaArbitrary(resolved, doc, hints, depth, name);
  const hint = name ? hints[name] : undefined;
  return hint ? fc.oneof(hint, fromSchema) : fromSchema;
}

function schemaArbitrary(schema: JsonSchema, doc: OpenApiDocument, hints: Hints, depth: number, name?: string): fc.Arbitrary<unknown> {
  if (depth > MAX_DEPTH) return fc.constant(null);
  if ("const" in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...schema.enum);
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(alternatives)) return fc.oneof(...alternatives.map((s: JsonSchema) => arbitraryFor(s, doc, { hints, depth: depth + 1, name })));
  const types = typesOf(schema);
  if (types.length === 0) return fc.jsonValue({ maxDepth: 2 });
  return fc.oneof(
    ...types.map((type): fc.Arbitrary<unknown> => {
      switch (type) {
        case "null":
          return fc.constant(null);
        case "boolean":
          return fc.boolean();
        case "integer":
          return numberArbitrary(schema, true);
        case "number":
          return numberArbitrary(schema, false);
        case "string":
          return stringArbitrary(schema, hints, name);
        case "array":
          return fc.array(arbitraryFor(schema.items ?? {}, doc, { hints, depth: depth + 1, name: name && `${name}[]` }), {
            minLength: schema.minItems ?? 0,
            maxLength: Math.max(schema.minItems ?? 0, Math.min(schema.maxItems ?? MAX_GENERATED_ITEMS, MAX_GENERATED_ITEMS)),
          });
        case "object":
          return objectArbitrary(schema, doc, hints, depth);
        default:
          throw new Error(`schema type ${type} is not handled by the fuzzer`);
      }
    }),
  );
}

function deepJson(levels: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < levels; i++) value = i % 2 ? [value] : { nested: value };
  return value;
}

export const ONE_MB_STRING = "A".repeat(1024 * 1024);
export const DEEP_JSON = deepJson(1000);

/** Strings that have broken parsers, SQL, templating and HTML escaping elsewhere. */
export const HOSTILE_STRINGS = [
  "'; DROP TABLE calls;--",
  '" OR 1=1 --',
  "1' OR '1'='1",
  "<script>alert(1)</script>",
  "<img src=x onerror=alert(1)>",
  "{{constructor.constructor('return process')()}}",
  "{{constructor}}",
  "${7*7}",
  "#{7*7}",
  "__proto__",
  "😀👩‍👩‍👧‍👦🏳️‍🌈",
  "\u202Eevil\u202C مرحبا",
  "nul\u0000byte",
  "\uD800",
  "\uDFFF lone",
  "\uFEFF\u200B",
  "../../admin",
  "%2e%2e%2f%2e%2e%2fadmin",
  "x".repeat(20_000),
  "",
  " ",
  "NaN",
  "1e308",
  "-1",
];

/** Numbers at and beyond every boundary we document. */
export const HOSTILE_NUMBERS = [0, -1, 1, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 1e308, -1e308, 0.5, 1e-308];

export const HOSTILE_VALUES: unknown[] = [...HOSTILE_STRINGS, ...HOSTILE_NUMBERS, null, true, false, [], {}, [null], { $gt: "" }, JSON.parse('{"__proto__":{"admin":true}}')];

/** Ids for path parameters: traversal, encoded slashes, injection and absurd lengths. */
export const HOSTILE_IDS = [
  "..%2F..%2Fadmin",
  "%2e%2e%2f%2e%2e%2fadmin",
  "%00%27%3B%20DROP%20TABLE%20calls%3B--",
  "%3Cscript%3E%7B%7Bconstructor%7D%7D%24%7B7*7%7D",
  "%F0%9F%98%80%E2%80%AE%ED%A0%80",
  "x".repeat(5_000),
];

/** Raw (not URL-encoded) traversal ids: the URL parser resolves them into another path. */
export const TRAVERSAL_IDS = ["../../admin", "../../../api/admin/v1/organizations"];

/** An arbitrary that breaks a valid value in the ways clients get wrong. */
export function hostileMutation(valid: fc.Arbitrary<unknown>, schema: JsonSchema | undefined, doc: OpenApiDocument): fc.Arbitrary<unknown> {
  const resolved = schema ? resolveRef(schema, doc) : {};
  const hostile = fc.constantFrom(...HOSTILE_VALUES);
  const mutations: fc.Arbitrary<unknown>[] = [hostile];
  const required: string[] = resolved.required ?? [];
  const propertyNames = Object.keys(resolved.properties ?? {});
  const asObject = (v: unknown) => (typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {});
  if (required.length) {
    mutations.push(fc.tuple(valid, fc.constantFrom(...required)).map(([v, key]) => {
      const copy = { ...asObject(v) };
      delete copy[key];
      return copy;
    }));
  }
  mutations.push(fc.tuple(valid, hostile).map(([v, value]) => ({ ...asObject(v), unexpected_field: value })));
  if (propertyNames.length) {
    mutations.push(fc.tuple(valid, fc.constantFrom(...propertyNames), hostile).map(([v, key, value]) => ({ ...asObject(v), [key]: value })));
    // A whole nested value swapped for something of another type, one level down.
    mutations.push(fc.tuple(valid, fc.constantFrom(...propertyNames), fc.constantFrom<unknown>("string", 42, [], {}, null, true)).map(([v, key, value]) => ({ ...asObject(v), [key]: value })));
  }
  return fc.oneof(...mutations);
}
