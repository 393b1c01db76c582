import { decodeEntities } from "../domain/knowledge";

export interface HtmlPage {
  title: string;
  text: string;
  /** Every `<a href>` as written (relative ones included), in document order. */
  links: string[];
  /** A `<base href>`, which relative links resolve against instead of the page URL. */
  base?: string;
}

/** Elements whose content is not page text. */
const SKIPPED = ["script", "style", "noscript", "template", "svg", "nav", "iframe", "object", "head", "select", "button"];

/** Elements that end a line of text: their start and end become paragraph breaks. */
const BLOCKS = [
  "p", "div", "section", "article", "main", "aside", "header", "footer", "li", "ul", "ol", "dl", "dt", "dd",
  "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr", "td", "th", "caption",
  "figure", "figcaption", "form", "fieldset", "address", "details", "summary",
];

/**
 * The text of an HTML page as a reader sees it, through the runtime's streaming HTMLRewriter:
 * script, style, nav and other non-content elements are skipped; block elements separate
 * paragraphs; whitespace collapses as a browser collapses it; character references are decoded.
 * Links are collected for the crawler.
 */
export async function extractHtml(body: ReadableStream<Uint8Array> | Uint8Array | string, contentType = "text/html; charset=utf-8"): Promise<HtmlPage> {
  const parts: string[] = [];
  const links: string[] = [];
  let title = "";
  let base: string | undefined;
  let skipDepth = 0;
  const breakHere = () => {
    parts.push("\n\n");
  };

  const rewriter = new HTMLRewriter()
    .on(SKIPPED.join(", "), {
      element(element) {
        skipDepth++;
        try {
          element.onEndTag(() => {
            skipDepth--;
          });
        } catch {
          skipDepth--; // no end tag (a self-closing form): nothing inside to skip
        }
      },
    })
    .on("title", {
      text(chunk) {
        title += chunk.text;
      },
    })
    .on("base[href]", {
      element(element) {
        base ??= element.getAttribute("href") ?? undefined;
      },
    })
    .on("a[href]", {
      element(element) {
        const href = element.getAttribute("href");
        if (href) links.push(decodeEntities(href));
      },
    })
    .on(BLOCKS.join(", "), {
      element(element) {
        breakHere();
        try {
          element.onEndTag(breakHere);
        } catch {
          // Void or self-closing: the start break is enough.
        }
      },
    })
    .on("br, hr", { element: breakHere })
    .onDocument({
      text(chunk) {
        if (skipDepth === 0 && chunk.text) parts.push(chunk.text.replace(/\s+/g, " "));
      },
    });

  const input = new Response(body as BodyInit, { headers: { "content-type": contentType } });
  await rewriter.transform(input).arrayBuffer();
  const text = decodeEntities(parts.join(""))
    .split("\n\n")
    .map((p) => p.replace(/\s+/g, " ").trim())
    .filter(Boolean)
    .join("\n\n");
  return { title: decodeEntities(title).replace(/\s+/g, " ").trim(), text, links, base };
}
