import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ClauseSplitter, splitClauses } from "../../src/voice/sentences";

function streamed(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const s = new ClauseSplitter();
  const out: string[] = [];
  let prev = 0;
  for (const p of [...points, text.length]) {
    out.push(...s.push(text.slice(prev, p)));
    prev = p;
  }
  return [...out, ...s.flush()];
}

describe("ClauseSplitter", () => {
  it("emits the first sentence as soon as the whitespace after it arrives", () => {
    const s = new ClauseSplitter();
    expect(s.push("Hello there")).toEqual([]);
    expect(s.push("!")).toEqual([]); // could still be "!?" or "!”"
    expect(s.push(" How")).toEqual(["Hello there!"]);
    expect(s.push(" are you today? I'm fine.")).toEqual(["How are you today?"]);
    expect(s.pending).toBe("I'm fine.");
    expect(s.flush()).toEqual(["I'm fine."]);
    expect(s.flush()).toEqual([]);
  });

  it("does not split decimals, times or thousands", () => {
    expect(splitClauses("It costs 3.5 dollars. Okay.")).toEqual(["It costs 3.5 dollars.", "Okay."]);
    expect(splitClauses("Your appointment is at 10:30 tomorrow. See you then!")).toEqual(["Your appointment is at 10:30 tomorrow.", "See you then!"]);
    expect(splitClauses("We have served more than 1,000 patients, and counting.")).toEqual(["We have served more than 1,000 patients,", "and counting."]);
  });

  it("waits when a terminator ends the chunk (it may be a decimal point)", () => {
    const s = new ClauseSplitter();
    expect(s.push("It is 3.")).toEqual([]);
    expect(s.push("5 now. ")).toEqual(["It is 3.5 now."]);
  });

  it("does not split after abbreviations, initials or a list number", () => {
    expect(splitClauses("Dr. Smith will see you, e.g. on Monday. Mr. Jones too.")).toEqual(["Dr. Smith will see you, e.g. on Monday.", "Mr. Jones too."]);
    expect(splitClauses("The office opens at 9 a.m. on weekdays. Call (i.e. phone) us.")).toEqual(["The office opens at 9 a.m. on weekdays.", "Call (i.e. phone) us."]);
    expect(splitClauses("J. R. R. Tolkien wrote it. Yes.")).toEqual(["J. R. R. Tolkien wrote it.", "Yes."]);
    expect(splitClauses("1. Bring your ID\n2. Arrive early")).toEqual(["1. Bring your ID", "2. Arrive early"]);
  });

  it("still splits after words that look like abbreviations but end sentences", () => {
    expect(splitClauses("No. I can't do that, etc. Sorry.")).toEqual(["No.", "I can't do that, etc.", "Sorry."]);
  });

  it("splits on , ; : only once the clause is long enough", () => {
    expect(splitClauses("Thanks for calling Acme Dental, this is Ava; how can I help you today?")).toEqual([
      "Thanks for calling Acme Dental,",
      "this is Ava; how can I help you today?",
    ]);
    expect(splitClauses("Sure, I can do that.")).toEqual(["Sure, I can do that."]);
    expect(splitClauses("Here is what I found in your file: two visits; both paid.")).toEqual(["Here is what I found in your file:", "two visits; both paid."]);
    expect(splitClauses("Sure, I can do that.", { minSoftChars: 4 })).toEqual(["Sure,", "I can do that."]);
  });

  it("keeps closing quotes and brackets with their sentence", () => {
    expect(splitClauses('He said "stop." Then he left.')).toEqual(['He said "stop."', "Then he left."]);
    expect(splitClauses("We close at five (on Fridays.) Thanks!")).toEqual(["We close at five (on Fridays.)", "Thanks!"]);
    expect(splitClauses("Really?! Wow.")).toEqual(["Really?!", "Wow."]);
  });

  it("treats ellipses and newlines as boundaries and drops empty clauses", () => {
    expect(splitClauses("Well... let me check.")).toEqual(["Well...", "let me check."]);
    expect(splitClauses("First line\n\n  Second line.  \n")).toEqual(["First line", "Second line."]);
    expect(splitClauses("   ")).toEqual([]);
    expect(splitClauses("")).toEqual([]);
  });

  it("flushes text without a terminator at the end", () => {
    const s = new ClauseSplitter();
    expect(s.push("No trailing punctuation")).toEqual([]);
    expect(s.flush()).toEqual(["No trailing punctuation"]);
  });

  it("gives the same clauses for any chunking, and loses no text", () => {
    const text = 'Hi! Dr. Lee is free at 3:30 p.m. on Dec 5, or at 10.5 past noon; which works? "Great." (Noted.) 1,200 credits remain... Bye\nThanks';
    const whole = splitClauses(text);
    expect(whole).toEqual([
      "Hi!",
      "Dr. Lee is free at 3:30 p.m. on Dec 5,",
      "or at 10.5 past noon; which works?",
      '"Great."',
      "(Noted.)",
      "1,200 credits remain...",
      "Bye",
      "Thanks",
    ]);
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 25 }), (cuts) => {
        expect(streamed(text, cuts)).toEqual(whole);
      }),
      { seed: 55, numRuns: 300 },
    );
  });

  it("preserves every non-space character in order for arbitrary text", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("a", "B", "1", ".", ",", "!", "?", ";", ":", " ", "\n", '"', ")", "Dr", "e.g", "é"), { maxLength: 80 }).map((parts) => parts.join("")),
        fc.array(fc.nat(), { maxLength: 8 }),
        (text, cuts) => {
          const clauses = streamed(text, cuts);
          expect(clauses.join("").replace(/\s+/g, "")).toBe(text.replace(/\s+/g, ""));
          expect(clauses.every((c) => c.length > 0 && c === c.trim())).toBe(true);
          expect(clauses).toEqual(splitClauses(text));
        },
      ),
      { seed: 77, numRuns: 400 },
    );
  });
});
