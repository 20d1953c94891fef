/**
 * The tables of an instance's life (docs/simulator.md, "Instance lifecycle"): the states Tencent documents,
 * the reasons a launch fails with, what a forced state shows, which states TerminateInstances refuses, and the
 * InstanceName markers that steer one instance.
 */

/**
 * Every `InstanceState` Tencent documents (SDK `InstanceStatus.InstanceState`,
 * https://cloud.tencent.com/document/api/213/15753#InstanceStatus).
 */
export const INSTANCE_STATES = [
  'PENDING',
  'LAUNCH_FAILED',
  'RUNNING',
  'STOPPED',
  'STARTING',
  'STOPPING',
  'REBOOTING',
  'SHUTDOWN',
  'TERMINATING',
  'ENTER_RESCUE_MODE',
  'RESCUE_MODE',
  'EXIT_RESCUE_MODE',
  'ENTER_SERVICE_LIVE_MIGRATE',
  'SERVICE_LIVE_MIGRATE',
  'EXIT_SERVICE_LIVE_MIGRATE',
] as const;
export type InstanceState = (typeof INSTANCE_STATES)[number];

/** `LatestOperationState` values (SDK `Instance.LatestOperationState`). */
export const OPERATION_STATES = ['SUCCESS', 'OPERATING', 'FAILED'] as const;
export type OperationState = (typeof OPERATION_STATES)[number];

/** What Describe shows of an instance's state and latest operation at one moment. */
export interface InstanceStatus {
  state: InstanceState | 'GONE';
  operation: string;
  operationState: OperationState;
  errorMsg: string | null;
}

/** A state forced on an instance (`POST /_sim/instances/{id}/state`, `SimState.forceState`). */
export interface ForcedState {
  InstanceState: InstanceState;
  LatestOperationState?: OperationState;
  LatestOperationErrorMsg?: string | null;
}

/**
 * The latest operation a forced state shows unless told otherwise: the user action that leads to it, OPERATING
 * while it is a passing state. Live migration is the platform's doing, not the account's: it leaves the launch
 * as the latest operation.
 */
export const FORCED_OPERATIONS: Readonly<
  Record<InstanceState, { operation: string; operationState: OperationState }>
> = {
  PENDING: { operation: 'RunInstances', operationState: 'OPERATING' },
  LAUNCH_FAILED: { operation: 'RunInstances', operationState: 'FAILED' },
  RUNNING: { operation: 'RunInstances', operationState: 'SUCCESS' },
  STOPPED: { operation: 'StopInstances', operationState: 'SUCCESS' },
  STARTING: { operation: 'StartInstances', operationState: 'OPERATING' },
  STOPPING: { operation: 'StopInstances', operationState: 'OPERATING' },
  REBOOTING: { operation: 'RebootInstances', operationState: 'OPERATING' },
  SHUTDOWN: { operation: 'TerminateInstances', operationState: 'SUCCESS' },
  TERMINATING: { operation: 'TerminateInstances', operationState: 'OPERATING' },
  ENTER_RESCUE_MODE: { operation: 'EnterRescueMode', operationState: 'OPERATING' },
  RESCUE_MODE: { operation: 'EnterRescueMode', operationState: 'SUCCESS' },
  EXIT_RESCUE_MODE: { operation: 'ExitRescueMode', operationState: 'OPERATING' },
  ENTER_SERVICE_LIVE_MIGRATE: { operation: 'RunInstances', operationState: 'SUCCESS' },
  SERVICE_LIVE_MIGRATE: { operation: 'RunInstances', operationState: 'SUCCESS' },
  EXIT_SERVICE_LIVE_MIGRATE: { operation: 'RunInstances', operationState: 'SUCCESS' },
};

/** What a launch failure's reason is chosen from. */
export interface LaunchFacts {
  zone: string;
  instanceType: string;
  chargeType: string;
  systemDiskType: string;
  subnetId?: string;
}

/**
 * Why a launch fails (`LatestOperationErrorMsg`): the simulator's own texts for failures RunInstances has
 * error codes for (sold-out types and disks, balance, a full subnet, an internal error). Tencent does not
 * publish the texts; a reason is only drawn among those that fit the instance.
 */
export const LAUNCH_FAILURES: ReadonlyArray<{
  fits: (facts: LaunchFacts) => boolean;
  message: (facts: LaunchFacts) => string;
}> = [
  {
    fits: () => true,
    message: (f) =>
      `The instance type ${f.instanceType} is sold out in ${f.zone}; choose another type or zone.`,
  },
  {
    fits: () => true,
    message: (f) => `The ${f.systemDiskType} cloud disks for the system disk are sold out in ${f.zone}.`,
  },
  {
    fits: (f) => f.chargeType === 'PREPAID',
    message: () => 'The account balance is insufficient to pay for the prepaid (monthly) instance.',
  },
  {
    fits: (f) => f.subnetId !== undefined,
    message: (f) => `The subnet ${f.subnetId} has no free private IP address left.`,
  },
  {
    fits: () => true,
    message: () => 'An internal error occurred while the instance was being created; create it again.',
  },
];

/** The reason a launch fails with, chosen by a draw in [0, 1) among the reasons that fit. */
export function launchFailureReason(facts: LaunchFacts, draw: number): string {
  const fitting = LAUNCH_FAILURES.filter((reason) => reason.fits(facts));
  const chosen = fitting[Math.min(Math.floor(draw * fitting.length), fitting.length - 1)];
  return chosen ? chosen.message(facts) : 'The instance failed to launch.';
}

/**
 * States TerminateInstances refuses, with the code: exactly the states whose `UnsupportedOperation.InstanceState*`
 * code the TerminateInstances documentation lists (Go SDK `cvm/v20170312/client.go`,
 * https://github.com/TencentCloud/tencentcloud-sdk-go/blob/master/tencentcloud/cvm/v20170312/client.go).
 * STOPPED, SHUTDOWN, RESCUE_MODE and SERVICE_LIVE_MIGRATE have codes elsewhere, but not for TerminateInstances.
 */
export const TERMINATE_REFUSALS: Readonly<Partial<Record<InstanceState, { code: string; message: string }>>> =
  {
    PENDING: {
      code: 'UnsupportedOperation.InstanceStatePending',
      message: 'the instance is still being created; it cannot be terminated yet',
    },
    LAUNCH_FAILED: {
      code: 'UnsupportedOperation.InstanceStateLaunchFailed',
      message: 'the instance failed to launch; it cannot be terminated and will be reclaimed',
    },
    STARTING: {
      code: 'UnsupportedOperation.InstanceStateStarting',
      message: 'the instance is starting; it cannot be terminated now',
    },
    STOPPING: {
      code: 'UnsupportedOperation.InstanceStateStopping',
      message: 'the instance is stopping; it cannot be terminated now',
    },
    REBOOTING: {
      code: 'UnsupportedOperation.InstanceStateRebooting',
      message: 'the instance is rebooting; it cannot be terminated now',
    },
    TERMINATING: {
      code: 'UnsupportedOperation.InstanceStateTerminating',
      message: 'the instance is already being terminated',
    },
    ENTER_RESCUE_MODE: {
      code: 'UnsupportedOperation.InstanceStateEnterRescueMode',
      message: 'the instance is entering rescue mode; it cannot be terminated now',
    },
    EXIT_RESCUE_MODE: {
      code: 'UnsupportedOperation.InstanceStateExitRescueMode',
      message: 'the instance is leaving rescue mode; it cannot be terminated now',
    },
    ENTER_SERVICE_LIVE_MIGRATE: {
      code: 'UnsupportedOperation.InstanceStateEnterServiceLiveMigrate',
      message: 'the instance is entering a live migration; it cannot be terminated now',
    },
    EXIT_SERVICE_LIVE_MIGRATE: {
      code: 'UnsupportedOperation.InstanceStateExitServiceLiveMigrate',
      message: 'the instance is leaving a live migration; it cannot be terminated now',
    },
  };

/**
 * InstanceName markers that steer one instance, so a test can get a mix without random rates: the name keeps
 * them, as Tencent would keep any text.
 */
export const MARKERS = {
  /** The instance always ends LAUNCH_FAILED. */
  launchFail: 'sim:launch-fail',
  /** `sim:hidden-<ms>`: Describe does not see the instance for at least <ms> after its creation. */
  hidden: /sim:hidden-(\d+)/,
} as const;

/** What the markers of an InstanceName ask for. */
export function markersOf(name: string): { launchFails: boolean; hiddenForMs: number } {
  return {
    launchFails: name.includes(MARKERS.launchFail),
    hiddenForMs: Number(MARKERS.hidden.exec(name)?.[1] ?? 0),
  };
}

const FORCED_KEYS: ReadonlySet<string> = new Set([
  'InstanceState',
  'LatestOperationState',
  'LatestOperationErrorMsg',
]);

/** Parses a forced state from untrusted JSON; returns an error message instead when it is malformed. */
export function parseForcedState(input: unknown): ForcedState | string {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    return 'the body is a JSON object { InstanceState, LatestOperationState?, LatestOperationErrorMsg? }';
  const unknown = Object.keys(input).filter((key) => !FORCED_KEYS.has(key));
  if (unknown.length) return `unknown member ${unknown[0]}`;
  const { InstanceState, LatestOperationState, LatestOperationErrorMsg } = input as Record<string, unknown>;
  const state = INSTANCE_STATES.find((s) => s === InstanceState);
  if (!state) return `InstanceState must be one of ${INSTANCE_STATES.join(', ')}`;
  const operationState = OPERATION_STATES.find((s) => s === LatestOperationState);
  if (LatestOperationState !== undefined && !operationState)
    return `LatestOperationState must be one of ${OPERATION_STATES.join(', ')}`;
  if (
    LatestOperationErrorMsg !== undefined &&
    LatestOperationErrorMsg !== null &&
    typeof LatestOperationErrorMsg !== 'string'
  )
    return 'LatestOperationErrorMsg must be a string or null';
  return {
    InstanceState: state,
    ...(operationState === undefined ? {} : { LatestOperationState: operationState }),
    ...(LatestOperationErrorMsg === undefined ? {} : { LatestOperationErrorMsg }),
  };
}
