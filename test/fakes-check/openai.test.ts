import { describe, expect, it } from "vitest";
import { TTS_TONE_HZ, concatBytes, estimateFrequency, pcm16leToSamples, rms, speechAudio, wavHeader } from "../fakes/audio";
import { FAKE_OPENAI_API_KEY } from "../fakes/keys";
import { FAKES, control, readChunks, readSse, recorded, uniqueTag } from "./helpers";

const OPENAI = `${FAKES}/v1`;

function post(path: string, body: unknown, key = FAKE_OPENAI_API_KEY) {
  return fetch(`${OPENAI}${path}`, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body: JSON.stringify(body) });
}

const chunksOf = (events: { data?: string }[]) => events.filter((e) => e.data && e.data !== "[DONE]").map((e) => JSON.parse(e.data!));

describe("fake OpenAI chat completions", () => {
  it("streams a scripted reply as SSE: role chunk, keep-alive comments, content split mid-word, finish_reason, usage, [DONE]", async () => {
    const marker = uniqueTag("chat-sse");
    const content = "Sure! Your appointment is booked for Tuesday at 3 pm — café hours apply.";
    await control("/__fakes/openai/script", { match: marker, replies: [{ content }] });
    const res = await post("/chat/completions", {
      model: "gpt-4o-mini",
      stream: true,
      stream_options: { include_usage: true },
      messages: [
        { role: "system", content: `You are a receptionist. ${marker}` },
        { role: "user", content: "Book me for Tuesday" },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const { events } = await readSse(res);

    expect(events.at(-1)!.data).toBe("[DONE]");
    expect(events.filter((e) => e.data === undefined).flatMap((e) => e.comments)).toContain(": keep-alive");
    const chunks = chunksOf(events);
    expect(chunks[0]).toMatchObject({ object: "chat.completion.chunk", model: "gpt-4o-mini", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);

    const pieces = chunks.filter((c) => c.choices[0]?.delta.content).map((c) => c.choices[0].delta.content as string);
    expect(pieces.join("")).toBe(content);
    expect(pieces.length).toBeGreaterThan(5);
    expect(pieces.some((p, i) => i + 1 < pieces.length && /\w$/.test(p) && /^\w/.test(pieces[i + 1]))).toBe(true);

    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage).toMatchObject({ prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number) });
    expect(usage.usage.total_tokens).toBe(usage.usage.prompt_tokens + usage.usage.completion_tokens);
    const finish = chunks.at(-2);
    expect(finish.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "stop" });
    for (const chunk of chunks.slice(0, -1)) expect(chunk.usage).toBeNull();

    // Every network write ended mid-event (the record counts the writes: one more than the events).
    const [request] = await recorded("openai", { contains: marker });
    expect(request.stream).toMatchObject({ chunks: events.length + 1, done: true, aborted: false });
    expect(request.headers.authorization).toBe(`Bearer ${FAKE_OPENAI_API_KEY}`);
  });

  it("streams tool calls as fragments keyed by index, then answers the tool results", async () => {
    const marker = uniqueTag("chat-tools");
    await control("/__fakes/openai/script", {
      match: marker,
      replies: [
        { tool_calls: [{ name: "lookup_order", arguments: { order_id: "A-17", include_items: true } }, { name: "end_call", arguments: {} }] },
        { content: "Your order ships tomorrow." },
      ],
    });
    const tools = ["lookup_order", "end_call"].map((name) => ({ type: "function", function: { name, description: name, parameters: { type: "object", properties: {} } } }));
    const messages: any[] = [
      { role: "system", content: "You help with orders." },
      { role: "user", content: `Where is my order? ${marker}` },
    ];
    const res = await post("/chat/completions", { model: "gpt-4o-mini", stream: true, tools, tool_choice: "auto", messages });
    const chunks = chunksOf((await readSse(res)).events);
    expect(chunks.every((c) => c.usage === undefined)).toBe(true);

    const calls: { id: string; name: string; arguments: string }[] = [];
    const fragmentsPerIndex = new Map<number, number>();
    for (const chunk of chunks) {
      for (const fragment of chunk.choices[0]?.delta.tool_calls ?? []) {
        const seen = fragmentsPerIndex.get(fragment.index) ?? 0;
        fragmentsPerIndex.set(fragment.index, seen + 1);
        if (seen === 0) {
          expect(fragment).toMatchObject({ id: expect.stringMatching(/^call_/), type: "function", function: { name: expect.any(String), arguments: "" } });
          calls[fragment.index] = { id: fragment.id, name: fragment.function.name, arguments: "" };
        } else {
          expect(fragment.id).toBeUndefined();
          expect(fragment.function.name).toBeUndefined();
          calls[fragment.index].arguments += fragment.function.arguments;
        }
      }
    }
    expect(fragmentsPerIndex.get(0)).toBeGreaterThan(3);
    expect(calls.map((c) => c.name)).toEqual(["lookup_order", "end_call"]);
    expect(JSON.parse(calls[0].arguments)).toEqual({ order_id: "A-17", include_items: true });
    expect(JSON.parse(calls[1].arguments)).toEqual({});
    expect(chunks.at(-1).choices[0].finish_reason).toBe("tool_calls");

    const assistant = { role: "assistant", content: null, tool_calls: calls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } })) };
    // OpenAI refuses a history where a tool call has no answer.
    const unanswered = await post("/chat/completions", { model: "gpt-4o-mini", tools, messages: [...messages, assistant, { role: "tool", tool_call_id: calls[0].id, content: "{}" }] });
    expect(unanswered.status).toBe(400);
    expect((await unanswered.json<any>()).error.message).toContain(calls[1].id);

    const followUp = await post("/chat/completions", {
      model: "gpt-4o-mini",
      stream: true,
      tools,
      messages: [...messages, assistant, ...calls.map((c) => ({ role: "tool", tool_call_id: c.id, content: '{"status":"shipped"}' }))],
    });
    const text = chunksOf((await readSse(followUp)).events)
      .map((c) => c.choices[0]?.delta.content ?? "")
      .join("");
    expect(text).toBe("Your order ships tomorrow.");
  });

  it("echoes the last user message by default, answers non-streaming requests, and checks the key and the history", async () => {
    const said = uniqueTag("echo");
    const res = await post("/chat/completions", { model: "gpt-4o-mini", messages: [{ role: "user", content: [{ type: "text", text: said }] }] });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body).toMatchObject({ object: "chat.completion", model: "gpt-4o-mini", choices: [{ index: 0, message: { role: "assistant", content: `You said: ${said}` }, finish_reason: "stop" }] });
    expect(body.usage.total_tokens).toBeGreaterThan(0);

    const badKey = await post("/chat/completions", { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }, "sk-wrong-key-1234");
    expect(badKey.status).toBe(401);
    expect(await badKey.json()).toMatchObject({ error: { code: "invalid_api_key", type: "invalid_request_error" } });

    const orphanTool = await post("/chat/completions", { model: "gpt-4o-mini", messages: [{ role: "user", content: "hi" }, { role: "tool", tool_call_id: "call_x", content: "{}" }] });
    expect(orphanTool.status).toBe(400);
    expect((await orphanTool.json<any>()).error.message).toContain("must be a response to a preceeding message with 'tool_calls'");

    const usageWithoutStream = await post("/chat/completions", { model: "gpt-4o-mini", stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] });
    expect(usageWithoutStream.status).toBe(400);
    await usageWithoutStream.body?.cancel();
  });

  it("fails, delays or cuts a reply when scripted", async () => {
    const failing = uniqueTag("chat-fail");
    await control("/__fakes/openai/script", { match: failing, fail: 500 });
    const failed = await post("/chat/completions", { model: "gpt-4o-mini", stream: true, messages: [{ role: "system", content: failing }, { role: "user", content: "hi" }] });
    expect(failed.status).toBe(500);
    expect(await failed.json()).toMatchObject({ error: { type: "server_error" } });

    const cut = uniqueTag("chat-cut");
    await control("/__fakes/openai/script", { match: cut, replies: [{ content: "This sentence never finishes because the connection drops.", cut_after_chunks: 4, first_chunk_delay_ms: 150 }] });
    const started = Date.now();
    const res = await post("/chat/completions", { model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: `go ${cut}` }] });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const first = await reader.read();
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(first.done).toBe(false);
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) break;
      })(),
    ).rejects.toThrow();
    const [request] = await recorded("openai", { contains: cut });
    expect(request.stream).toMatchObject({ cut: true, done: false });

    // A client that aborts mid-stream (barge-in) shows up as `aborted` in the record.
    const slow = uniqueTag("chat-abort");
    await control("/__fakes/openai/script", { match: slow, delay_ms_per_chunk: 30, replies: [{ content: "A long answer that the caller interrupts before it is done." }] });
    const abort = new AbortController();
    const streaming = await fetch(`${OPENAI}/chat/completions`, {
      method: "POST",
      signal: abort.signal,
      headers: { authorization: `Bearer ${FAKE_OPENAI_API_KEY}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: slow }] }),
    });
    await streaming.body!.getReader().read();
    abort.abort();
    const deadline = Date.now() + 3000;
    let aborted: any;
    while (Date.now() < deadline && !(aborted = (await recorded("openai", { contains: slow }))[0]).stream.aborted) await new Promise((r) => setTimeout(r, 20));
    expect(aborted.stream).toMatchObject({ aborted: true, done: false, cut: false });
  });
});

describe("fake OpenAI audio and embeddings", () => {
  it("speaks 24 kHz 16-bit PCM in chunks of odd sizes, as long as the text", async () => {
    const input = `Hello world ${uniqueTag("tts")}`;
    const res = await post("/audio/speech", { model: "gpt-4o-mini-tts", input, voice: "coral", response_format: "pcm" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/pcm");
    const bytes = concatBytes(await readChunks(res));
    expect(bytes.length).toBe(Math.round((input.length * 60 * 24000) / 1000) * 2);
    const samples = pcm16leToSamples(bytes);
    expect(rms(samples)).toBeGreaterThan(1000);
    expect(estimateFrequency(samples, 24000)).toBeCloseTo(TTS_TONE_HZ.openai, -1);
    const [request] = await recorded("openai", { contains: input });
    expect(request.stream.chunks).toBeGreaterThan(2);

    const mp3 = await post("/audio/speech", { model: "tts-1", input: "hi", voice: "alloy" });
    expect(mp3.status).toBe(400);
    expect((await mp3.json<any>()).error.message).toContain("'pcm'");
  });

  it("transcribes an uploaded file with the scripted text", async () => {
    const tag = uniqueTag("stt");
    await control("/__fakes/openai/transcription", { match: tag, text: "I would like to cancel my order." });
    const audio = speechAudio(1500);
    const form = new FormData();
    form.append("file", new Blob([wavHeader(audio.length, { rate: 8000, format: "mulaw" }), audio], { type: "audio/wav" }), `${tag}.wav`);
    form.append("model", "whisper-1");
    form.append("response_format", "verbose_json");
    const res = await fetch(`${OPENAI}/audio/transcriptions`, { method: "POST", headers: { authorization: `Bearer ${FAKE_OPENAI_API_KEY}` }, body: form });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ task: "transcribe", text: "I would like to cancel my order.", duration: 1.5 });

    const noModel = new FormData();
    noModel.append("file", new Blob([audio]), "call.wav");
    const refused = await fetch(`${OPENAI}/audio/transcriptions`, { method: "POST", headers: { authorization: `Bearer ${FAKE_OPENAI_API_KEY}` }, body: noModel });
    expect(refused.status).toBe(400);
    await refused.body?.cancel();
  });

  it("embeds texts as deterministic unit vectors, closer for texts sharing words", async () => {
    const texts = ["refund policy for damaged items", "what is the refund policy for damaged goods", "opening hours on sunday"];
    const res = await post("/embeddings", { model: "text-embedding-3-small", input: texts, dimensions: 256 });
    expect(res.status).toBe(200);
    const body = await res.json<any>();
    expect(body).toMatchObject({ object: "list", model: "text-embedding-3-small", usage: { prompt_tokens: expect.any(Number) } });
    const vectors: number[][] = body.data.map((d: any) => d.embedding);
    expect(vectors.map((v) => v.length)).toEqual([256, 256, 256]);
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
    expect(dot(vectors[0], vectors[0])).toBeCloseTo(1, 6);
    expect(dot(vectors[0], vectors[1])).toBeGreaterThan(dot(vectors[0], vectors[2]) + 0.3);

    const again = await (await post("/embeddings", { model: "text-embedding-3-small", input: texts[0], dimensions: 256, encoding_format: "base64" })).json<any>();
    const raw = Uint8Array.from(atob(again.data[0].embedding), (c) => c.charCodeAt(0));
    const floats = Array.from(new Float32Array(raw.buffer));
    floats.forEach((f, i) => expect(f).toBeCloseTo(vectors[0][i], 6));

    const empty = await post("/embeddings", { model: "text-embedding-3-small", input: "" });
    expect(empty.status).toBe(400);
    await empty.body?.cancel();
  });
});
