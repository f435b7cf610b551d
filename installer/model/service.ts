/** A bridge's long-running service, init-agnostic (render/units.ts writes it as a unit or a plist). */

export type InitSystem = 'systemd' | 'launchd' | 'none';

export interface ServiceSpec {
  /** systemd unit file name, e.g. kimaki.service. */
  unit: string;
  /** launchd label, e.g. com.wp.kimaki. */
  label: string;
  description: string;
  /** Units this one starts after, besides network.target. */
  after: string[];
  requires: string[];
  user: string;
  workingDirectory: string;
  /** ExecStart / ProgramArguments. */
  argv: string[];
  /** Managed env, in render order, per init system (PATH differs between them). */
  systemdEnv: [string, string][];
  launchdEnv: [string, string][];
  /** systemd EnvironmentFile= value (a leading '-' means optional). */
  environmentFile?: string;
  /** launchd StandardOutPath / StandardErrorPath. */
  stdoutPath: string;
  stderrPath: string;
}
