import { fuzzGroup } from "./harness";

fuzzGroup("batch-calls");
