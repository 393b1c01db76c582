import { isNanpCountry } from "../domain/telephony";
import type { AvailableNumber, AvailableNumberQuery, AvailableNumbers, Carrier, CarrierNumber } from "./types";

/** Numbers per area code: the whole fictional 555-0100…555-0199 block. */
const BLOCK_SIZE = 100;
const DEFAULT_AREA_CODE = { local: "415", toll_free: "800" } as const;
const CAPABILITIES = ["voice", "sms"];

/** The simulator's id for a number it "holds": derived from the number, so it is stable. */
function simulatorId(phoneNumber: string): string {
  return `SIM${phoneNumber.replace(/\D/g, "")}`;
}

/**
 * A carrier with no network for dev and tests (enabled by SIMULATOR_ENABLED). Its numbers are in
 * the 555-01XX range reserved for fiction, `+1{area}55501NN`, so nothing it hands out can ring a
 * real phone; every purchase and release succeeds, and it holds any number it is asked about.
 */
export class SimulatorCarrier implements Carrier {
  readonly provider = "simulator" as const;

  async searchAvailableNumbers(query: AvailableNumberQuery): Promise<AvailableNumbers> {
    if (!isNanpCountry(query.countryCode)) return { numbers: [], totalResults: 0 };
    const area = query.areaCode ?? (query.numberType === "toll_free" ? DEFAULT_AREA_CODE.toll_free : DEFAULT_AREA_CODE.local);
    const regions = [
      query.locality ? { region_type: "location", region_name: query.locality } : undefined,
      query.administrativeArea ? { region_type: "state", region_name: query.administrativeArea } : undefined,
      { region_type: "country_code", region_name: query.countryCode },
    ].filter((region) => region !== undefined);
    const count = Math.min(query.limit, BLOCK_SIZE);
    const numbers = Array.from(
      { length: count },
      (_, i): AvailableNumber => ({
        phone_number: `+1${area}55501${String(i).padStart(2, "0")}`,
        phone_number_type: query.numberType,
        region_information: regions,
        features: CAPABILITIES.map((name) => ({ name })),
        cost_information: { upfront_cost: "0.00", monthly_cost: "0.00", currency: "USD" },
      }),
    );
    return { numbers, totalResults: BLOCK_SIZE };
  }

  async purchaseNumber(phoneNumber: string): Promise<CarrierNumber> {
    return { phoneNumber, providerNumberId: simulatorId(phoneNumber), capabilities: CAPABILITIES };
  }

  async findNumber(phoneNumber: string): Promise<CarrierNumber | null> {
    return { phoneNumber, providerNumberId: simulatorId(phoneNumber), capabilities: CAPABILITIES };
  }

  /** Simulated calls are driven by the call engine itself, so there is no webhook to point. */
  async configureInbound(): Promise<void> {}

  async releaseNumber(): Promise<void> {}

  /** A fresh id only: the CallDO plays the simulated call's script itself (src/domain/simulator.ts). */
  async dial(): Promise<{ providerCallId: string }> {
    return { providerCallId: `SIM${crypto.randomUUID()}` };
  }

  /** Nothing rings anywhere; the CallDO records the end of the call itself. */
  async hangup(): Promise<void> {}

  /** Nobody to connect to: the CallDO ends the call as transferred. */
  async transfer(): Promise<void> {}

  async sendDtmf(): Promise<{ restartsStream: boolean }> {
    return { restartsStream: false };
  }
}
