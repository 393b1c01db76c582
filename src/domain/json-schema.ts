/**
 * A plausibility check for JSON Schemas that customers hand us (tool parameters today, the
 * agent's analysis schema later). The schema is forwarded to the LLM as a function-calling
 * parameter description and later used to validate what the model produced, so garbage must be
 * refused when it is saved, with the path of the offending keyword, not discovered mid-call.
 *
 * It checks the keywords it knows (types, shapes and ranges of draft 4 to 2020-12 keywords) and
 * leaves unknown keywords alone, as JSON Schema itself does.
 */

import { Validator, type Schema, type SchemaDraft } from "@cfworker/json-schema";

export interface SchemaProblem {
  field: string;
  reason: string;
}

export const JSON_SCHEMA_TYPES = ["string", "number", "integer", "boolean", "object", "array", "null"] as const;
const TYPES = new Set<string>(JSON_SCHEMA_TYPES);

/** A top-level schema must say what it accepts through at least one of these. */
const ROOT_KEYWORDS = ["type", "$ref", "enum", "const", "oneOf", "anyOf", "allOf", "not"];

const SUBSCHEMA_KEYWORDS = ["not", "additionalProperties", "contains", "propertyNames", "if", "then", "else", "additionalItems", "unevaluatedItems", "unevaluatedProperties"];
const SUBSCHEMA_ARRAY_KEYWORDS = ["oneOf", "anyOf", "allOf", "prefixItems"];
const SUBSCHEMA_MAP_KEYWORDS = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
const NUMBER_KEYWORDS = ["minimum", "maximum", "multipleOf"];
const COUNT_KEYWORDS = ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minContains", "maxContains"];
const STRING_KEYWORDS = ["$ref", "$id", "$schema", "title", "description", "format", "pattern", "contentEncoding", "contentMediaType"];
const BOOLEAN_KEYWORDS = ["uniqueItems", "readOnly", "writeOnly", "deprecated"];

/** Deeper than any real parameter schema; bounds the recursion on hostile input. */
export const MAX_SCHEMA_DEPTH = 16;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

const problem = (field: string, reason: string): SchemaProblem => ({ field, reason });

function checkKeywords(schema: Record<string, unknown>, path: string, depth: number): SchemaProblem | undefined {
  if ("type" in schema) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    const valid = types.length > 0 && types.every((t) => typeof t === "string" && TYPES.has(t)) && new Set(types).size === types.length;
    if (!valid) return problem(`${path}.type`, `Must be one of ${JSON_SCHEMA_TYPES.join(", ")}, or an array of distinct ones`);
  }
  if ("enum" in schema && !(Array.isArray(schema.enum) && schema.enum.length > 0)) {
    return problem(`${path}.enum`, "Must be a non-empty array");
  }
  if ("required" in schema) {
    const required = schema.required;
    const valid = Array.isArray(required) && required.every((r) => typeof r === "string") && new Set(required).size === required.length;
    if (!valid) return problem(`${path}.required`, "Must be an array of distinct property names");
  }
  for (const key of STRING_KEYWORDS) {
    if (key in schema && typeof schema[key] !== "string") return problem(`${path}.${key}`, "Must be a string");
  }
  if (typeof schema.pattern === "string") {
    try {
      new RegExp(schema.pattern);
    } catch {
      return problem(`${path}.pattern`, "Must be a valid regular expression");
    }
  }
  for (const key of BOOLEAN_KEYWORDS) {
    if (key in schema && typeof schema[key] !== "boolean") return problem(`${path}.${key}`, "Must be a boolean");
  }
  for (const key of NUMBER_KEYWORDS) {
    if (key in schema && !Number.isFinite(schema[key])) return problem(`${path}.${key}`, "Must be a number");
  }
  if (typeof schema.multipleOf === "number" && schema.multipleOf <= 0) return problem(`${path}.multipleOf`, "Must be greater than 0");
  for (const key of ["exclusiveMinimum", "exclusiveMaximum"]) {
    // Draft 4 spells these as booleans, later drafts as numbers.
    if (key in schema && !Number.isFinite(schema[key]) && typeof schema[key] !== "boolean") {
      return problem(`${path}.${key}`, "Must be a number");
    }
  }
  for (const key of COUNT_KEYWORDS) {
    const value = schema[key];
    if (key in schema && !(Number.isInteger(value) && (value as number) >= 0)) return problem(`${path}.${key}`, "Must be a non-negative integer");
  }

  for (const key of SUBSCHEMA_KEYWORDS) {
    if (key in schema) {
      const found = checkSubschema(schema[key], `${path}.${key}`, depth + 1);
      if (found) return found;
    }
  }
  for (const key of SUBSCHEMA_ARRAY_KEYWORDS) {
    if (!(key in schema)) continue;
    const list = schema[key];
    if (!Array.isArray(list) || list.length === 0) return problem(`${path}.${key}`, "Must be a non-empty array of schemas");
    for (const [i, item] of list.entries()) {
      const found = checkSubschema(item, `${path}.${key}.${i}`, depth + 1);
      if (found) return found;
    }
  }
  for (const key of SUBSCHEMA_MAP_KEYWORDS) {
    if (!(key in schema)) continue;
    const map = schema[key];
    if (!isObject(map)) return problem(`${path}.${key}`, "Must be an object mapping names to schemas");
    for (const [name, item] of Object.entries(map)) {
      if (key === "patternProperties") {
        try {
          new RegExp(name);
        } catch {
          return problem(`${path}.${key}.${name}`, "Property pattern must be a valid regular expression");
        }
      }
      const found = checkSubschema(item, `${path}.${key}.${name}`, depth + 1);
      if (found) return found;
    }
  }
  if ("items" in schema) {
    // A schema, or in drafts before 2020-12 an array of schemas (tuple validation).
    const items = schema.items;
    const list = Array.isArray(items) ? items : [items];
    for (const [i, item] of list.entries()) {
      const found = checkSubschema(item, Array.isArray(items) ? `${path}.items.${i}` : `${path}.items`, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}

function checkSubschema(schema: unknown, path: string, depth: number): SchemaProblem | undefined {
  if (typeof schema === "boolean") return undefined;
  if (!isObject(schema)) return problem(path, "Must be a JSON Schema (an object)");
  if (depth > MAX_SCHEMA_DEPTH) return problem(path, `Nested more than ${MAX_SCHEMA_DEPTH} levels deep`);
  return checkKeywords(schema, path, depth);
}

/**
 * Returns the first problem of a top-level schema, or undefined when it is plausible. `path` is
 * the field the schema came in (e.g. `definition.dynamicParameters.0.schema`) and prefixes the
 * reported field.
 */
export function checkJsonSchema(schema: unknown, path: string): SchemaProblem | undefined {
  if (!isObject(schema)) return problem(path, "Must be a JSON Schema object such as {\"type\": \"string\"}");
  if (!ROOT_KEYWORDS.some((key) => key in schema)) {
    return problem(path, `Must say what it accepts: a "type" (${JSON_SCHEMA_TYPES.join(", ")}) or one of $ref, enum, const, oneOf, anyOf, allOf, not`);
  }
  return checkKeywords(schema, path, 0);
}

// ---- Validating a value against a customer's schema ----
// @cfworker/json-schema needs no `eval`, so it runs in Workers.

/** The JSON Schema draft a schema names in `$schema` (2020-12 when it names none). */
export function schemaDraft(schema: Record<string, unknown>): SchemaDraft {
  const named = typeof schema.$schema === "string" ? schema.$schema : "";
  if (named.includes("draft-04")) return "4";
  if (named.includes("draft-07") || named.includes("draft-06")) return "7";
  if (named.includes("2019-09")) return "2019-09";
  return "2020-12";
}

/** `#/a/0/b` → `root.a.0.b`. */
function instancePath(pointer: string, root: string): string {
  const parts = pointer.replace(/^#\/?/, "").split("/").filter((p) => p !== "");
  return [root, ...parts.map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))].join(".");
}

const MAX_REPORTED_ERRORS = 10;

/** What is wrong with `value` under `schema`, one line per problem (none when it is valid), paths from `root`. */
export function schemaErrors(schema: Record<string, unknown>, value: unknown, root = "data"): string[] {
  const result = new Validator(structuredClone(schema) as Schema, schemaDraft(schema), false).validate(value);
  if (result.valid) return [];
  // The validator reports each failure and every enclosing keyword that failed because of it;
  // the innermost ("does not match schema" wrappers dropped) say what to fix.
  const specific = result.errors.filter((e) => !/does not match (?:schema|all schemas|any subschemas|exactly one subschema)/i.test(e.error) || result.errors.length === 1);
  const lines = (specific.length ? specific : result.errors).map((e) => `${instancePath(e.instanceLocation, root)}: ${e.error}`);
  return [...new Set(lines)].slice(0, MAX_REPORTED_ERRORS);
}
