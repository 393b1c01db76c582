import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  chunkText,
  cosineSimilarity,
  decodeEntities,
  estimateTokens,
  fitToTokenBudget,
  ftsMatchExpression,
  markdownToText,
  normalizeText,
  normalizeVector,
  queryTerms,
  reciprocalRankFusion,
  resolveLink,
  sameSite,
  looksLikePage,
} from "../../src/domain/knowledge";

const sentence = (i: number) => `Sentence number ${i} talks about topic ${i} in some detail.`;

describe("chunkText", () => {
  it("keeps a short text in one chunk and gives none for blank text", () => {
    expect(chunkText("Hello there.  How are\tyou?")).toEqual(["Hello there. How are you?"]);
    expect(chunkText(" \n\n \t ")).toEqual([]);
  });

  it("keeps closing quotes and brackets with their sentence", () => {
    expect(chunkText('He said "stop!" (twice.) Then left.', { size: 20, overlap: 0 })).toEqual(['He said "stop!"', "(twice.) Then left."]);
    expect(chunkText('!" !')).toEqual(['!" !']);
  });

  it("cuts at sentence boundaries, never above the size, with whole sentences of overlap", () => {
    const text = Array.from({ length: 60 }, (_, i) => sentence(i)).join(" ");
    const chunks = chunkText(text, { size: 800, overlap: 150 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(800);
      expect(chunk).toMatch(/^Sentence number \d+/);
      expect(chunk).toMatch(/detail\.$/);
    }
    for (let i = 1; i < chunks.length; i++) {
      const firstOfNext = /^Sentence number (\d+)/.exec(chunks[i])![1];
      const prev = chunks[i - 1];
      // The next chunk starts with a sentence the previous one ended with (the overlap)...
      expect(prev).toContain(sentence(Number(firstOfNext)));
      // ...and the overlap is at most 150 characters.
      const overlap = prev.slice(prev.indexOf(sentence(Number(firstOfNext))));
      expect(overlap.length).toBeLessThanOrEqual(150);
      expect(overlap.length).toBeGreaterThan(0);
    }
    // Nothing is lost: every sentence is in some chunk.
    for (let i = 0; i < 60; i++) expect(chunks.some((c) => c.includes(sentence(i)))).toBe(true);
  });

  it("prefers paragraph boundaries and keeps them as blank lines", () => {
    const paragraphs = ["First paragraph is short.", "Second paragraph is also short.", "Third one too."];
    expect(chunkText(paragraphs.join("\n\n"))).toEqual([paragraphs.join("\n\n")]);
    const long = Array.from({ length: 12 }, (_, i) => `Paragraph ${i}. ${"word ".repeat(20).trim()}.`);
    const chunks = chunkText(long.join("\n\n"), { size: 300, overlap: 60 });
    for (const chunk of chunks) expect(chunk.length).toBeLessThanOrEqual(300);
    expect(chunks[0]).toContain("\n\n");
  });

  it("cuts a sentence longer than the size at word boundaries, and a giant word hard", () => {
    const words = Array.from({ length: 400 }, (_, i) => `w${i}`).join(" ");
    const chunks = chunkText(words, { size: 200, overlap: 40 });
    for (const chunk of chunks) {
      expect(chunk.length).toBeLessThanOrEqual(200);
      expect(chunk).toMatch(/^w\d+( w\d+)*$/);
    }
    for (let i = 0; i < 400; i++) expect(chunks.some((c) => c.split(" ").includes(`w${i}`))).toBe(true);
    const giant = chunkText("x".repeat(450), { size: 200, overlap: 40 });
    expect(giant.join("").replace(/\s/g, "").length).toBeGreaterThanOrEqual(450);
    for (const chunk of giant) expect(chunk.length).toBeLessThanOrEqual(200);
  });

  it("holds its invariants for any text (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.lorem({ maxCount: 30, mode: "sentences" }), fc.constant("\n\n"), fc.string({ maxLength: 300 }))), (parts) => {
        const text = parts.join(" ");
        const chunks = chunkText(text, { size: 200, overlap: 50 });
        const words = normalizeText(text).split(/\s+/).filter(Boolean);
        for (const chunk of chunks) {
          expect(chunk.length).toBeLessThanOrEqual(200);
          expect(chunk.trim()).toBe(chunk);
          expect(chunk.length).toBeGreaterThan(0);
        }
        // Every word of the text (cut to the chunk size) appears in some chunk.
        const joined = chunks.join(" ");
        for (const word of words) if (word.length <= 200) expect(joined).toContain(word);
      }),
      { numRuns: 200 },
    );
  });

  it("rejects options that cannot make progress", () => {
    expect(() => chunkText("text", { size: 100, overlap: 60 })).toThrow();
    expect(() => chunkText("text", { size: 10, overlap: 0 })).toThrow();
  });
});

describe("markdownToText", () => {
  it("drops markup and keeps the words", () => {
    const md = [
      "# Returns policy",
      "",
      "Items can be **returned** within _30 days_ — see [our form](https://acme.test/form) or ![a chart](c.png).",
      "",
      "- first `item`",
      "1. numbered ~~old~~ item",
      "> quoted line",
      "",
      "| Plan | Price |",
      "| --- | --- |",
      "| Pro | $40 |",
      "",
      "```js",
      "const x = 1;",
      "```",
      "---",
      "<span>inline html</span>",
    ].join("\n");
    const text = markdownToText(md);
    expect(text).toContain("Returns policy");
    expect(text).toContain("Items can be returned within 30 days — see our form or a chart.");
    expect(text).toContain("first item");
    expect(text).toContain("numbered old item");
    expect(text).toContain("quoted line");
    expect(text).toContain("Pro · $40");
    expect(text).toContain("const x = 1;");
    expect(text).toContain("inline html");
    expect(text).not.toMatch(/[#*`>\[\]]|https:|---|<span>/);
  });
});

describe("decodeEntities", () => {
  it("decodes named and numeric references and leaves unknown ones", () => {
    expect(decodeEntities("Fish &amp; chips &lt;3 &#8217;s &#x1F600; &nbsp;x &bogus; &#0;")).toBe("Fish & chips <3 ’s 😀 \u00a0x &bogus; &#0;");
  });
});

describe("FTS query building", () => {
  it("keeps searchable words, drops stopwords and repeats, and quotes every term", () => {
    expect(queryTerms("What is the RETURN policy for returns, the return?")).toEqual(["return", "policy", "returns"]);
    expect(ftsMatchExpression('refund" OR NEAR(x) -y *')).toBe('"refund" OR "near" OR "x" OR "y"');
    expect(ftsMatchExpression("the of and ?!")).toBeUndefined();
    expect(ftsMatchExpression("café 30 días")).toBe('"café" OR "30" OR "días"');
    expect(queryTerms(Array.from({ length: 50 }, (_, i) => `t${i}`).join(" "))).toHaveLength(32);
  });
});

describe("reciprocalRankFusion", () => {
  it("scores Σ 1/(k + rank) and ranks items both lists like above items one list likes", () => {
    const fused = reciprocalRankFusion([
      [1, 2, 3],
      [3, 4, 1],
    ]);
    expect(fused.map((f) => f.id)).toEqual([1, 3, 2, 4]);
    expect(fused[0]).toEqual({ id: 1, score: 1 / 61 + 1 / 63, ranks: [1, 3] });
    expect(fused.find((f) => f.id === 4)).toEqual({ id: 4, score: 1 / 62, ranks: [null, 2] });
  });

  it("with one list keeps its order, and counts a repeat once", () => {
    expect(reciprocalRankFusion([[5, 6, 5, 7]]).map((f) => [f.id, f.ranks[0]])).toEqual([
      [5, 1],
      [6, 2],
      [7, 4],
    ]);
    expect(reciprocalRankFusion([[], []])).toEqual([]);
  });
});

describe("vectors", () => {
  it("normalizes and compares", () => {
    const v = normalizeVector([3, 4]);
    expect(Array.from(v)).toEqual([expect.closeTo(0.6, 6), expect.closeTo(0.8, 6)]);
    expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    expect(cosineSimilarity([1, 2], [2, 4])).toBeCloseTo(1, 10);
    expect(cosineSimilarity([0, 0], [1, 1])).toBe(0);
    expect(() => cosineSimilarity([1], [1, 2])).toThrow();
  });
});

describe("fitToTokenBudget", () => {
  it("takes ranked texts while they fit, skipping one too big for what is left", () => {
    const items = [{ text: "a".repeat(400) }, { text: "b".repeat(300) }, { text: "c".repeat(40) }, { text: "d".repeat(4) }];
    expect(estimateTokens("abcde")).toBe(2);
    expect(fitToTokenBudget(items, 110).map((i) => i.text[0])).toEqual(["a", "c"]);
    expect(fitToTokenBudget(items, 111).map((i) => i.text[0])).toEqual(["a", "c", "d"]);
    expect(fitToTokenBudget(items, 5)).toEqual([items[3]]);
    expect(fitToTokenBudget(items, 0)).toEqual([]);
  });
});

describe("crawl link rules", () => {
  const base = new URL("https://help.acme.test/docs/");
  it("resolves relative links, drops fragments and non-web schemes", () => {
    expect(resolveLink("page#top", base)?.href).toBe("https://help.acme.test/docs/page");
    expect(resolveLink("/x?y=1", base)?.href).toBe("https://help.acme.test/x?y=1");
    expect(resolveLink("mailto:a@b.c", base)).toBeUndefined();
    expect(resolveLink("javascript:alert(1)", base)).toBeUndefined();
    expect(resolveLink("http://[bad", base)).toBeUndefined();
  });
  it("calls same-site only the same scheme, host and port", () => {
    expect(sameSite(new URL("https://help.acme.test/a"), base)).toBe(true);
    expect(sameSite(new URL("https://www.acme.test/a"), base)).toBe(false);
    expect(sameSite(new URL("http://help.acme.test/a"), base)).toBe(false);
    expect(sameSite(new URL("https://help.acme.test:8443/a"), base)).toBe(false);
  });
  it("does not treat files as pages", () => {
    expect(looksLikePage(new URL("https://a.test/manual.PDF"))).toBe(false);
    expect(looksLikePage(new URL("https://a.test/logo.png"))).toBe(false);
    expect(looksLikePage(new URL("https://a.test/docs/intro"))).toBe(true);
    expect(looksLikePage(new URL("https://a.test/index.html"))).toBe(true);
  });
});
