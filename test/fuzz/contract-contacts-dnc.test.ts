import { fuzzGroup } from "./harness";

fuzzGroup("contacts-dnc");
