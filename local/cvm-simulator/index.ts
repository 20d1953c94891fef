export { type Catalog, DEFAULT_CATALOG, type Subnet } from './catalog.ts';
export { FAULT_MODES, type Fault, type FaultMode, RATE_LIMITS } from './faults.ts';
export {
  DEFAULT_SIM_SECRET_ID,
  DEFAULT_SIM_SECRET_KEY,
  DEFAULT_VISIBILITY,
  type SimCredential,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from './server.ts';
export { simulatorOptionsFromEnv } from './settings.ts';
export { CLIENT_TOKEN_MODES, type ClientTokenMode } from './state.ts';
