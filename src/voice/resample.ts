/**
 * PCM16 resampling between the telephony-relevant rates (8, 16 and 24 kHz), streaming.
 *
 * Why: OpenAI TTS `pcm` is 24 kHz s16le and the phone leg is 8 kHz μ-law (realtime.md §4), and
 * some STT/TTS paths want 16 kHz. Plain decimation (keep every 3rd sample) folds everything
 * above the new Nyquist back into the voice band as audible aliasing, so every conversion goes
 * through one rational polyphase FIR: upsample by L (zero-stuffing), low-pass, downsample by M.
 * 24k→8k is L=1/M=3, 16k→8k 1/2, 8k→24k 3/1, 8k→16k 2/1, 24k↔16k 2/3 and 3/2.
 *
 * The filter is a Kaiser-windowed sinc (odd length, linear phase) designed once per rate pair
 * at module load. It is causal: output lags input by (taps-1)/2 samples at the intermediate
 * rate (about 2 ms); `flush()` drains that tail at end of stream.
 */

export type PcmRate = 8000 | 16000 | 24000;

const RATES: readonly PcmRate[] = [8000, 16000, 24000];

/** Zeroth-order modified Bessel function of the first kind (power series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-16) break;
  }
  return sum;
}

/**
 * Designs a linear-phase low-pass FIR: `numTaps` (odd) Kaiser-windowed sinc taps with the cutoff
 * given as a fraction of the sample rate (0 < cutoff < 0.5), scaled so the DC gain is `gain`.
 */
export function designLowpass(numTaps: number, cutoff: number, beta = 8, gain = 1): Float64Array {
  if (!Number.isInteger(numTaps) || numTaps < 1 || numTaps % 2 === 0) throw new RangeError(`numTaps must be a positive odd integer, got ${numTaps}`);
  if (!(cutoff > 0 && cutoff < 0.5)) throw new RangeError(`cutoff must be in (0, 0.5), got ${cutoff}`);
  const taps = new Float64Array(numTaps);
  const mid = (numTaps - 1) / 2;
  const i0Beta = besselI0(beta);
  let sum = 0;
  for (let n = 0; n < numTaps; n++) {
    const t = n - mid;
    const sinc = t === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * t) / (Math.PI * t);
    const r = mid === 0 ? 0 : t / mid;
    const window = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / i0Beta;
    taps[n] = sinc * window;
    sum += taps[n];
  }
  for (let n = 0; n < numTaps; n++) taps[n] *= gain / sum;
  return taps;
}

interface Plan {
  up: number;
  down: number;
  taps: Float64Array;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Cutoff at 45% of the lower rate (3.6 kHz for 8 kHz output, above the 3.4 kHz telephone band)
 * and 32 taps per unit of max(L, M) give the transition band (~±450 Hz around 3.6 kHz for 8k)
 * and ~80 dB of stop-band rejection from beta 8, at ~100 multiply-adds per output sample.
 */
function makePlan(from: PcmRate, to: PcmRate): Plan {
  const g = gcd(from, to);
  const up = to / g;
  const down = from / g;
  const numTaps = 32 * Math.max(up, down) + 1;
  const intermediateRate = from * up;
  const cutoff = (0.45 * Math.min(from, to)) / intermediateRate;
  // Zero-stuffing by L divides the signal's amplitude by L, so the filter's gain restores it.
  return { up, down, taps: designLowpass(numTaps, cutoff, 8, up) };
}

const PLANS = new Map<string, Plan>();
for (const from of RATES) for (const to of RATES) if (from !== to) PLANS.set(`${from}>${to}`, makePlan(from, to));

/** Filter taps used for a conversion (exposed for tests and diagnostics). */
export function resamplerTaps(from: PcmRate, to: PcmRate): Float64Array {
  const plan = PLANS.get(`${from}>${to}`);
  if (!plan) throw new RangeError(`no resampling plan for ${from} -> ${to}`);
  return plan.taps;
}

function clamp16(x: number): number {
  const r = Math.round(x);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** Little-endian s16 bytes (even length) to samples, without Node's Buffer. */
export function pcm16FromBytesLE(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = ((bytes[2 * i + 1] << 24) >> 16) | bytes[2 * i];
  return out;
}

/** Samples to little-endian s16 bytes. */
export function pcm16ToBytesLE(samples: Int16Array): Uint8Array {
  const out = new Uint8Array(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    out[2 * i] = samples[i] & 0xff;
    out[2 * i + 1] = (samples[i] >> 8) & 0xff;
  }
  return out;
}

/**
 * Streaming resampler. Feeding a signal in any chunking yields exactly the samples one call with
 * the whole signal would: the last ceil(taps/L) inputs are kept as history between calls and the
 * output phase carries over. After n input samples in total, ceil(n·L/M) samples have come out.
 */
export class Resampler {
  readonly from: PcmRate;
  readonly to: PcmRate;
  readonly #up: number;
  readonly #down: number;
  readonly #taps: Float64Array;
  /** Last inputs seen, oldest first; starts as zeros (silence before the stream). */
  #history: Float64Array;
  /** Intermediate-rate index of the next output, relative to #history[0]. */
  #pos: number;
  /** Half of a PCM16 sample left over from pushBytes (HTTP chunks may split samples). */
  #oddByte: number | null = null;

  constructor(from: PcmRate, to: PcmRate) {
    if (!RATES.includes(from) || !RATES.includes(to)) throw new RangeError(`unsupported rate pair ${from} -> ${to}`);
    this.from = from;
    this.to = to;
    const plan = PLANS.get(`${from}>${to}`);
    this.#up = plan?.up ?? 1;
    this.#down = plan?.down ?? 1;
    this.#taps = plan?.taps ?? Float64Array.of(1);
    this.#history = new Float64Array(Math.ceil(this.#taps.length / this.#up));
    this.#pos = this.#history.length * this.#up;
  }

  /** Group delay in output samples (how far the output lags the input). */
  get delaySamples(): number {
    return ((this.#taps.length - 1) / 2) / this.#down;
  }

  push(input: Int16Array): Int16Array {
    if (this.from === this.to) return input.slice();
    const up = this.#up;
    const down = this.#down;
    const taps = this.#taps;
    const numTaps = taps.length;
    const hist = this.#history.length;
    const work = new Float64Array(hist + input.length);
    work.set(this.#history);
    for (let i = 0; i < input.length; i++) work[hist + i] = input[i];

    // Output u (intermediate index) exists once input floor(u/L) has arrived.
    const limit = work.length * up;
    const count = this.#pos < limit ? Math.ceil((limit - this.#pos) / down) : 0;
    const out = new Int16Array(count);
    let u = this.#pos;
    for (let k = 0; k < count; k++, u += down) {
      // y[u] = Σ_j x[j]·h[u − jL] over the inputs j whose stuffed position falls under the filter.
      let acc = 0;
      const jMax = Math.floor(u / up);
      const jMin = Math.max(0, Math.ceil((u - numTaps + 1) / up));
      for (let j = jMin; j <= jMax; j++) acc += work[j] * taps[u - j * up];
      out[k] = clamp16(acc);
    }

    this.#history = work.slice(work.length - hist);
    this.#pos = u - (work.length - hist) * up;
    return out;
  }

  /**
   * Raw little-endian PCM16 bytes in any split. An odd trailing byte is kept and joined with the
   * next chunk's first byte (realtime.md §4).
   */
  pushBytes(bytes: Uint8Array): Int16Array {
    let data = bytes;
    if (this.#oddByte !== null) {
      data = new Uint8Array(bytes.length + 1);
      data[0] = this.#oddByte;
      data.set(bytes, 1);
      this.#oddByte = null;
    }
    if (data.length % 2 === 1) this.#oddByte = data[data.length - 1];
    return this.push(pcm16FromBytesLE(data.subarray(0, data.length & ~1)));
  }

  /**
   * End of stream: pushes enough silence to drain the filter's delay line, then resets so the
   * instance can be reused. A dangling odd byte (half a sample) is dropped.
   */
  flush(): Int16Array {
    const tail = this.from === this.to ? new Int16Array(0) : this.push(new Int16Array(Math.ceil((this.#taps.length - 1) / 2 / this.#up)));
    this.#history.fill(0);
    this.#pos = this.#history.length * this.#up;
    this.#oddByte = null;
    return tail;
  }
}

/** One-shot conversion of a whole buffer (no flush: the output has exactly ceil(n·L/M) samples). */
export function resample(input: Int16Array, from: PcmRate, to: PcmRate): Int16Array {
  return new Resampler(from, to).push(input);
}
