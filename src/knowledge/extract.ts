import type { DocumentContentType } from "../domain/documents";
import { markdownToText } from "../domain/knowledge";
import { extractDocx } from "./docx";
import { IngestError } from "./errors";

export interface ExtractedDocument {
  text: string;
  /** PDFs only: the number of pages read. */
  pages?: number;
}

/**
 * PDF text through unpdf (a serverless build of Mozilla's PDF.js that runs in Workers), page by
 * page with a blank line between pages. Loaded on first use: it is large and only ingestion needs it.
 */
async function extractPdf(bytes: Uint8Array): Promise<ExtractedDocument> {
  const { extractText, getDocumentProxy } = await import("unpdf");
  let document: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // PDF.js may take over (detach) the buffer it is given: hand it a copy.
    document = await getDocumentProxy(bytes.slice(), { isEvalSupported: false, stopAtErrors: true });
  } catch (error) {
    throw new IngestError(`Could not read the PDF: ${(error as Error).message || String(error)}`, { cause: error });
  }
  try {
    const { totalPages, text } = await extractText(document, { mergePages: false });
    return { text: text.join("\n\n"), pages: totalPages };
  } catch (error) {
    throw new IngestError(`Could not read the PDF's text: ${(error as Error).message || String(error)}`, { cause: error });
  } finally {
    await document.destroy().catch(() => {});
  }
}

/** The readable text of an uploaded document of one of the accepted types. */
export async function extractDocument(bytes: Uint8Array, contentType: string): Promise<ExtractedDocument> {
  switch (contentType as DocumentContentType) {
    case "text/plain":
      return { text: new TextDecoder().decode(bytes) };
    case "text/markdown":
      return { text: markdownToText(new TextDecoder().decode(bytes)) };
    case "application/pdf":
      return extractPdf(bytes);
    case "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
      return { text: await extractDocx(bytes) };
    default:
      throw new IngestError(`Unsupported document type ${contentType}`);
  }
}
