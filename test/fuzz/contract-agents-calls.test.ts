import { fuzzGroup } from "./harness";

fuzzGroup("agents-calls");
