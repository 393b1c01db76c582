import { describe, expect, it } from "vitest";
import { DeepgramTurnAssembler, shouldInterrupt, spokenWords, type TurnEvent } from "../../src/voice/turns";

/** A Deepgram `Results` message; words are [text, start, end] in seconds. */
function results(transcript: string, opts: { isFinal?: boolean; speechFinal?: boolean; fromFinalize?: boolean; words?: [string, number, number][]; start?: number; duration?: number } = {}) {
  return {
    type: "Results",
    channel_index: [0, 1],
    start: opts.start ?? 0,
    duration: opts.duration ?? 1,
    is_final: opts.isFinal ?? false,
    speech_final: opts.speechFinal ?? false,
    from_finalize: opts.fromFinalize ?? false,
    channel: {
      alternatives: [
        {
          transcript,
          confidence: 0.98,
          words: (opts.words ?? []).map(([w, start, end]) => ({ word: w.toLowerCase(), start, end, confidence: 0.99, punctuated_word: w })),
        },
      ],
    },
    metadata: { request_id: "r1", model_info: { name: "nova-3", version: "1", arch: "x" }, model_uuid: "u" },
  };
}

function feed(assembler: DeepgramTurnAssembler, messages: unknown[]): TurnEvent[] {
  return messages.flatMap((m) => assembler.push(m));
}

describe("DeepgramTurnAssembler", () => {
  it("buffers is_final segments and emits the turn on speech_final", () => {
    const a = new DeepgramTurnAssembler();
    const events = feed(a, [
      { type: "SpeechStarted", channel: [0, 1], timestamp: 3.08 },
      results("book", { words: [["book", 3.12, 3.3]] }),
      results("book me for", { words: [["book", 3.12, 3.3], ["me", 3.3, 3.42], ["for", 3.42, 3.6]] }),
      results("Book me for", { isFinal: true, words: [["Book", 3.12, 3.3], ["me", 3.3, 3.42], ["for", 3.42, 3.6]] }),
      results("tues", { words: [["tues", 3.7, 3.9]] }),
      results("Tuesday at ten.", { isFinal: true, speechFinal: true, words: [["Tuesday", 3.7, 4.1], ["at", 4.15, 4.3], ["ten.", 4.3, 4.605]] }),
      { type: "UtteranceEnd", channel: [0, 1], last_word_end: 4.605 },
    ]);
    expect(events).toEqual([
      { type: "speech_started", atMs: 3080 },
      { type: "interim", text: "book" },
      { type: "interim", text: "book me for" },
      { type: "interim", text: "Book me for" },
      { type: "interim", text: "Book me for tues" },
      { type: "turn", text: "Book me for Tuesday at ten.", startMs: 3120, endMs: 4605 },
    ]);
    expect(a.buffered).toBe("");
  });

  it("emits on UtteranceEnd when endpointing never fired (noisy line)", () => {
    const a = new DeepgramTurnAssembler();
    const events = feed(a, [
      results("I need to", { isFinal: true, words: [["I", 1.0, 1.1], ["need", 1.1, 1.3], ["to", 1.3, 1.4]] }),
      results("reschedule", { isFinal: true, words: [["reschedule", 1.5, 2.0]] }),
      results("", { isFinal: true, start: 2.0, duration: 1.0 }),
      { type: "UtteranceEnd", channel: [0, 1], last_word_end: 2.0 },
    ]);
    expect(events).toEqual([
      { type: "interim", text: "I need to" },
      { type: "interim", text: "I need to reschedule" },
      { type: "turn", text: "I need to reschedule", startMs: 1000, endMs: 2000 },
    ]);
  });

  it("never emits an empty turn and never emits twice", () => {
    const a = new DeepgramTurnAssembler();
    expect(feed(a, [results("", { isFinal: true, speechFinal: true }), { type: "UtteranceEnd", last_word_end: 1 }])).toEqual([]);
    expect(
      feed(a, [
        results("Yes.", { isFinal: true, speechFinal: true, words: [["Yes.", 5.0, 5.4]] }),
        { type: "UtteranceEnd", last_word_end: 5.4 },
        { type: "UtteranceEnd", last_word_end: 5.4 },
        results("", { isFinal: true, speechFinal: true }),
      ]),
    ).toEqual([{ type: "turn", text: "Yes.", startMs: 5000, endMs: 5400 }]);
  });

  it("emits the buffer on a speech_final whose own transcript is empty", () => {
    const a = new DeepgramTurnAssembler();
    expect(feed(a, [results("Hello?", { isFinal: true, words: [["Hello?", 0.5, 0.9]] }), results("", { isFinal: true, speechFinal: true, start: 0.9, duration: 0.4 })])).toEqual([
      { type: "interim", text: "Hello?" },
      { type: "turn", text: "Hello?", startMs: 500, endMs: 900 },
    ]);
  });

  it("falls back to segment start/duration, then last_word_end, without word timings", () => {
    const a = new DeepgramTurnAssembler();
    expect(feed(a, [results("Okay then.", { isFinal: true, speechFinal: true, start: 7.25, duration: 1.5 })])).toEqual([{ type: "turn", text: "Okay then.", startMs: 7250, endMs: 8750 }]);
    const b = new DeepgramTurnAssembler();
    const noTimes = { type: "Results", is_final: true, channel: { alternatives: [{ transcript: "hi" }] } };
    expect(feed(b, [noTimes, { type: "UtteranceEnd", last_word_end: 2.5 }])).toEqual([
      { type: "interim", text: "hi" },
      { type: "turn", text: "hi", startMs: 0, endMs: 2500 },
    ]);
  });

  it("assembles consecutive turns independently", () => {
    const a = new DeepgramTurnAssembler();
    const events = feed(a, [
      results("First.", { isFinal: true, speechFinal: true, words: [["First.", 1, 1.5]] }),
      results("Second", { isFinal: true, words: [["Second", 10, 10.4]] }),
      results("one.", { isFinal: true, speechFinal: true, words: [["one.", 10.5, 10.8]] }),
    ]);
    expect(events.filter((e) => e.type === "turn")).toEqual([
      { type: "turn", text: "First.", startMs: 1000, endMs: 1500 },
      { type: "turn", text: "Second one.", startMs: 10000, endMs: 10800 },
    ]);
  });

  it("ends the turn on a Finalize result unless disabled", () => {
    const msg = results("Cancel it.", { isFinal: true, fromFinalize: true, words: [["Cancel", 2, 2.3], ["it.", 2.3, 2.5]] });
    expect(feed(new DeepgramTurnAssembler(), [msg])).toEqual([{ type: "turn", text: "Cancel it.", startMs: 2000, endMs: 2500 }]);
    expect(feed(new DeepgramTurnAssembler({ endOnFinalize: false }), [msg])).toEqual([{ type: "interim", text: "Cancel it." }]);
  });

  it("drops repeated drafts and ignores metadata, unknown and malformed messages", () => {
    const a = new DeepgramTurnAssembler();
    expect(
      feed(a, [
        results("hi"),
        results("hi"),
        results(""),
        { type: "Metadata", request_id: "x" },
        { type: "Results" },
        { type: "Results", channel: { alternatives: "nope" } },
        { type: "SpeechStarted" },
        null,
        "Results",
        42,
      ]),
    ).toEqual([{ type: "interim", text: "hi" }]);
  });

  it("reset() discards buffered speech", () => {
    const a = new DeepgramTurnAssembler();
    a.push(results("half a", { isFinal: true }));
    a.reset();
    expect(a.push({ type: "UtteranceEnd", last_word_end: 3 })).toEqual([]);
  });
});

describe("shouldInterrupt", () => {
  const opts = { minWords: 2, minSpeechMs: 300 };

  it("ignores backchannels and fillers however long they last", () => {
    for (const text of ["okay", "OK.", "yeah", "Uh-huh.", "mm-hmm", "right", "um", "uh", "hmm", "Yeah, okay.", "Mm-hmm, right, uh-huh.", "Ummm... hmmm", "mhm"]) {
      expect(shouldInterrupt({ text, speechMs: 5000 }, opts), text).toBe(false);
    }
  });

  it("always interrupts on stop / wait / actually / no", () => {
    for (const text of ["stop", "Wait!", "Actually", "no", "No, no.", "okay wait", "Uh, actually"]) {
      expect(shouldInterrupt({ text, speechMs: 0 }, { minWords: 5, minSpeechMs: 10_000 }), text).toBe(true);
    }
  });

  it("needs minWords real words and minSpeechMs of speech otherwise", () => {
    expect(shouldInterrupt({ text: "Can you", speechMs: 400 }, opts)).toBe(true);
    expect(shouldInterrupt({ text: "Can", speechMs: 400 }, opts)).toBe(false);
    expect(shouldInterrupt({ text: "Can you", speechMs: 200 }, opts)).toBe(false);
    expect(shouldInterrupt({ text: "yeah okay so", speechMs: 400 }, opts)).toBe(false); // one real word
    expect(shouldInterrupt({ text: "yeah okay so basically", speechMs: 400 }, opts)).toBe(true);
    expect(shouldInterrupt({ text: "Sorry, what?", speechMs: 400 })).toBe(true); // defaults: 2 words, 200 ms
    expect(shouldInterrupt({ text: "Hello", speechMs: 400 }, { minWords: 1, minSpeechMs: 0 })).toBe(true);
  });

  it("with minWords 0, VAD-only speech (no transcript yet) can interrupt", () => {
    expect(shouldInterrupt({ text: "", speechMs: 250 }, { minWords: 0, minSpeechMs: 200 })).toBe(true);
    expect(shouldInterrupt({ text: "", speechMs: 150 }, { minWords: 0, minSpeechMs: 200 })).toBe(false);
    expect(shouldInterrupt({ text: "", speechMs: 5000 }, { minWords: 1, minSpeechMs: 0 })).toBe(false);
    expect(shouldInterrupt({ text: "okay", speechMs: 5000 }, { minWords: 0, minSpeechMs: 0 })).toBe(false);
  });

  it("tokenises with hyphens and apostrophes kept", () => {
    expect(spokenWords("Uh-huh, I don't KNOW… mm-hmm!")).toEqual(["uh-huh", "i", "don't", "know", "mm-hmm"]);
    expect(spokenWords("")).toEqual([]);
    expect(spokenWords("¿Qué? Sí, señor")).toEqual(["qué", "sí", "señor"]);
  });
});
