import { fuzzGroup } from "./harness";

fuzzGroup("telephony-webhooks-keys");
