import { fuzzGroup } from "./harness";

fuzzGroup("admin");
