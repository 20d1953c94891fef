export {
  type Catalog,
  DEFAULT_CATALOG,
  type ImageSpec,
  type InstanceTypeSpec,
  type Subnet,
} from './catalog.ts';
export { FAULT_MODES, type Fault, type FaultMode, RATE_LIMITS } from './faults.ts';
export {
  type ForcedState,
  INSTANCE_STATES,
  type InstanceState,
  LAUNCH_FAILURES,
  MARKERS,
  OPERATION_STATES,
  type OperationState,
  TERMINATE_REFUSALS,
} from './lifecycle.ts';
export {
  DEFAULT_LIFECYCLE,
  DEFAULT_SIM_SECRET_ID,
  DEFAULT_SIM_SECRET_KEY,
  DEFAULT_VISIBILITY,
  type SimCredential,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from './server.ts';
export { simulatorOptionsFromEnv } from './settings.ts';
export { CLIENT_TOKEN_MODES, type ClientTokenMode, type SimInstance, SimState } from './state.ts';
