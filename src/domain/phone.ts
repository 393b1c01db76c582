import { isSupportedCountry, parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js/max";

/**
 * Phone normalisation for contacts. The `max` metadata is used because only it checks a number
 * against its country's real numbering plan (`isValid()`); the default `min` set checks length
 * only and would let unallocated ranges into campaigns.
 */

export type PhoneResult = { ok: true; e164: string } | { ok: false; reason: string };

export const INVALID_PHONE = "Invalid phone number format";

/** ISO 3166-1 alpha-2 codes libphonenumber has a numbering plan for, e.g. `US`, `GB`. */
export function isPhoneCountry(code: string): boolean {
  return /^[A-Za-z]{2}$/.test(code) && isSupportedCountry(code.toUpperCase());
}

/**
 * `+1 (415) 555-2671` → `+14155552671`. A number without `+` is national and is read in
 * `defaultCountry`; without one we refuse rather than guess, because the same digits are valid
 * numbers in several countries.
 */
export function normalizePhone(raw: string, defaultCountry?: string): PhoneResult {
  const text = raw.trim();
  if (text === "") return { ok: false, reason: "Phone number is missing" };
  const international = text.startsWith("+");
  if (!international && !defaultCountry) {
    return { ok: false, reason: "Not in E.164 format (+ and country code); send default_country to import national numbers" };
  }
  const country = international ? undefined : (defaultCountry?.toUpperCase() as CountryCode);
  const parsed = parsePhoneNumberFromString(text, country);
  if (!parsed?.isValid()) return { ok: false, reason: INVALID_PHONE };
  return { ok: true, e164: parsed.number };
}

/** The digits of a search term that looks like a phone number (`(415) 555`, `+44 20`), else undefined. */
export function phoneSearchDigits(term: string): string | undefined {
  if (!/^[\d\s()+.-]+$/.test(term)) return undefined;
  const digits = term.replace(/\D/g, "");
  return digits === "" ? undefined : digits;
}
