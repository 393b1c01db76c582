import { describe, expect, it } from "vitest";
import { fillTemplate, findTemplateProblems, templateVariables } from "../../src/domain/templating";

describe("templating", () => {
  it("fills known variables and keeps unknown ones visible", () => {
    expect(fillTemplate("Hi {{first_name}}, about {{ order.id }} and {{missing}}", { first_name: "Ana", "order.id": "42" })).toBe(
      "Hi Ana, about 42 and {{missing}}",
    );
  });

  it("lists distinct variables in order", () => {
    expect(templateVariables("{{b}} {{a}} {{b}}")).toEqual(["b", "a"]);
    expect(templateVariables(null)).toEqual([]);
  });

  it("reports unclosed and malformed placeholders", () => {
    expect(findTemplateProblems("Hello {{name")).toHaveLength(1);
    expect(findTemplateProblems("Hello {{first name}}")[0].reason).toContain("not a valid variable name");
    expect(findTemplateProblems("Hello {{name}} and {single}")).toEqual([]);
  });
});
