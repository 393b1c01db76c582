import { fuzzGroup } from "./harness";

fuzzGroup("voices-tools-kb");
