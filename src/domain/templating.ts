/**
 * Mustache-style `{{name}}` placeholders in prompts and greetings, filled from call variables.
 * Only plain substitution: no sections, partials or HTML escaping, because the output is text
 * spoken to a caller or read by an LLM, never HTML.
 */

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\}\}/g;

export type TemplateProblem = { index: number; reason: string };

/** Finds `{{` that do not open a well-formed placeholder, so typos are caught when saved, not mid-call. */
export function findTemplateProblems(template: string): TemplateProblem[] {
  const problems: TemplateProblem[] = [];
  let at = template.indexOf("{{");
  while (at !== -1) {
    const close = template.indexOf("}}", at + 2);
    const inner = close === -1 ? null : template.slice(at + 2, close).trim();
    if (inner === null) {
      problems.push({ index: at, reason: `"{{" at character ${at} is never closed with "}}"` });
      break;
    }
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(inner)) {
      problems.push({ index: at, reason: `"{{${inner}}}" at character ${at} is not a valid variable name` });
    }
    at = template.indexOf("{{", close + 2);
  }
  return problems;
}

/** The distinct variable names a template uses, in order of first appearance. */
export function templateVariables(template: string | null | undefined): string[] {
  if (!template) return [];
  return [...new Set(Array.from(template.matchAll(PLACEHOLDER), (m) => m[1]))];
}

/** Substitutes known variables; unknown placeholders are left as written so they are visible in transcripts. */
export function fillTemplate(template: string, variables: Record<string, string>): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => (name in variables ? variables[name] : whole));
}
